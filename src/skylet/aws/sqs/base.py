"""``QueueService``: what every group of SQS operations shares: the store, the account and
region queues belong to, and the one way a request's ``QueueUrl`` becomes a queue.

The operations live in their own modules by responsibility (``queues``, ``sending``,
``receiving``, ``moves``), each a subclass of this; ``service.Queues`` puts them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.aws.sqs import fifo, names, wire_names
from skylet.aws.sqs.errors import non_existent_queue
from skylet.config import RuntimeSettings
from skylet.store.base import Clock, QueueStore
from skylet.store.types import QueueConfig


class QueueService(Service):
    """SQS on the durable store: ``settings`` gives the account and region of queue ARNs and
    the endpoint URLs are built on when a request names no host (``Ref`` in a manifest)."""

    service_name = "sqs"
    extra_protocols = ("query",)
    overlay = wire_names.OVERLAY
    protocol_overlays = {"query": wire_names.QUERY_OVERLAY}

    def __init__(self, store: QueueStore, settings: RuntimeSettings, *, now: Clock = time.time):
        self.store = store
        self.account = settings.account_id
        #: The region of the queues' ARNs; the platform sets the manifest's.
        self.region = settings.region
        self.endpoint = settings.endpoint_url or "http://127.0.0.1:9000"
        self.now = now
        #: When each queue was last purged on this node (SQS allows one purge a minute).
        self.purged: dict[str, float] = {}
        self.sequencer = fifo.Sequencer()
        self.attempts = fifo.ReceiveAttempts()
        #: Told how many messages a queue took (the metrics hook), by the composition root.
        self.on_sent: Callable[[str, int], None] | None = None

    # -- names --------------------------------------------------------------------------------

    def arn(self, name: str) -> str:
        return names.queue_arn(self.region, self.account, name)

    def url(self, name: str, context: RequestContext | None = None) -> str:
        """The queue's URL on the host the request came to (else skylet's endpoint)."""
        if context is not None and context.host:
            return names.queue_url(context.host, self.account, name)
        endpoint = urlsplit(self.endpoint)
        return names.queue_url(endpoint.netloc, self.account, name, scheme=endpoint.scheme)

    def name_of(self, request: Params) -> str:
        url = request["QueueUrl"]
        if "/" not in url and names.is_queue_name(url):
            return str(url)  # SQS takes a bare queue name where a URL is due, too
        return names.name_from_url(url, self.account)

    def name_from_arn(self, arn: str, parameter: str) -> str:
        return names.name_from_arn(arn, self.account, parameter=parameter)

    # -- the store ------------------------------------------------------------------------------

    async def queue(self, request: Params) -> QueueConfig:
        """The queue a request's ``QueueUrl`` names; QueueDoesNotExist when there is none."""
        return await self.queue_named(self.name_of(request))

    async def queue_named(self, name: str) -> QueueConfig:
        config = await self.store.get_queue(name) if names.is_queue_name(name) else None
        if config is None:
            raise non_existent_queue()
        return config
