"""Amazon SQS on the durable store (``Queues``); docs/sqs.md."""

from __future__ import annotations

from skylet.aws.sqs.service import Queues

__all__ = ["Queues"]
