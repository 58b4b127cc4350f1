"""``Queues``: Amazon SQS on skylet's durable store, every operation of its model but the
permission ones (AddPermission, RemovePermission), in json and, for older SDKs, query.

    queues = Queues(store, settings)          # no I/O; the store is started by the platform
    response = await handle(queues, method, path, query, headers, body, models=…, request_id=…)
    await queues.aclose()                      # stops message move tasks

The operations are grouped by what they work on (``queues``, ``sending``, ``receiving``,
``moves``); docs/sqs.md says what is served and how it differs from AWS.
"""

from __future__ import annotations

from skylet.aws.sqs.moves import MoveOperations
from skylet.aws.sqs.queues import QueueOperations
from skylet.aws.sqs.receiving import ReceiveOperations
from skylet.aws.sqs.sending import SendOperations


class Queues(QueueOperations, SendOperations, ReceiveOperations, MoveOperations):
    """SQS. Built without I/O; ``aclose`` stops what it runs in the background."""
