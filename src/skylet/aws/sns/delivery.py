"""Delivering what topics fan out: one durable job per subscriber, tried until it is
delivered, its retry policy is exhausted, or it fails on the client's side.

Publish stores one job per matching subscription in the store queue ``skylet:sns:deliveries``
(``…deliveries.fifo`` for FIFO topics, where the store keeps each subscription's message group
in order) before it answers. Every node runs a ``Deliveries`` loop that leases jobs, delivers
them, and then deletes them; a node killed mid-delivery leaves its jobs leased, and they come
back after ``lease_s``: at least once, as SNS.

- ``lambda``: an asynchronous invocation (``Functions.enqueue_batch``) with SNS's event record,
  or, for a Cloud Functions style function, Pub/Sub's push shape (``pubsub.py``);
- ``sqs``: the JSON notification, or the raw message with its attributes, through ``QueueSink``;
- ``http``/``https``: a POST with SNS's headers; ``SubscriptionConfirmation`` jobs too.

A failed try waits per its policy (``retries.py``: the job's HTTP policy, SNS's managed policy
for Lambda and SQS): the job is hidden for the delay and the store counts the tries. A
client-side failure, or an exhausted policy, sends the message to the subscription's
dead-letter queue (``RedrivePolicy``) if it has one, and drops it otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from skylet.aws.sns import envelopes, pubsub
from skylet.aws.sns.envelopes import Links
from skylet.aws.sns.messages import Message
from skylet.aws.sns.names import lambda_endpoint
from skylet.aws.sns.retries import HTTP_DEFAULT, MANAGED, RetryPolicy
from skylet.aws.sns.sinks import Functions, HttpPoster, QueueSink, client_side, http_client_side
from skylet.errors import SkyletError
from skylet.events.batching import Coalescer
from skylet.observe.trace_context import CURRENT, parse_traceparent
from skylet.store.base import QueueStore
from skylet.store.types import MAX_RETENTION_S
from skylet.store.types import Message as Leased

log = logging.getLogger(__name__)

DELIVERIES = "skylet:sns:deliveries"
FIFO_DELIVERIES = "skylet:sns:deliveries.fifo"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    #: A leased job comes back this long after its node died (more than the HTTP timeout).
    lease_s: float = 60.0
    poll_s: float = 1.0
    batch_size: int = 100
    #: Deliveries in flight at once on a node.
    max_concurrency: int = 64
    #: Scales every retry wait (tests shorten SNS's 20 s).
    delay_scale: float = 1.0


@dataclass
class DeliveryStats:
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0
    dropped: int = 0


class Failed(Exception):
    """A try that did not deliver; ``client`` says whether SNS would retry it (no)."""

    def __init__(self, reason: str, *, client: bool) -> None:
        super().__init__(reason)
        self.client = client


@dataclass
class Deliveries:
    """The delivery loops of one node. Built without I/O; ``start`` after the store."""

    store: QueueStore
    functions: Functions
    http: HttpPoster
    queues: QueueSink | None = None
    settings: DeliverySettings = field(default_factory=DeliverySettings)
    #: The Google Cloud project Pub/Sub shapes name (the platform's service name).
    project: str = "skylet"
    stats: DeliveryStats = field(default_factory=DeliveryStats)

    def __post_init__(self) -> None:
        self.links: Links | None = None
        self._loops: list[asyncio.Task[None]] = []
        self._running: set[asyncio.Task[None]] = set()
        self._deletes: Coalescer[str, str, bool] = Coalescer(self._delete)

    async def ensure_queues(self) -> None:
        for name, fifo in ((DELIVERIES, False), (FIFO_DELIVERIES, True)):
            await self.store.create_queue(
                name, visibility_timeout_s=60.0, retention_s=MAX_RETENTION_S, fifo=fifo
            )

    async def start(self, links: Links) -> None:
        self.links = links
        await self.ensure_queues()
        if not self._loops:
            self._loops = [
                asyncio.create_task(self._loop(DELIVERIES)),
                asyncio.create_task(self._loop(FIFO_DELIVERIES)),
            ]

    async def aclose(self, grace_s: float = 10.0) -> None:
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        self._loops = []
        if self._running:
            await asyncio.wait(set(self._running), timeout=grace_s)
        for task in list(self._running):
            task.cancel()  # its job stays leased and comes back after the lease
        await self._deletes.aclose()

    async def _delete(self, queue: str, receipts: list[str]) -> list[bool]:
        return await self.store.delete_batch(queue, receipts)

    async def _loop(self, queue: str) -> None:
        settings = self.settings
        backoff = 0.05
        while True:
            free = settings.max_concurrency - len(self._running)
            if free <= 0:
                await asyncio.wait(set(self._running), return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                jobs = await self.store.receive(
                    queue,
                    max_messages=min(free, settings.batch_size),
                    visibility_timeout_s=settings.lease_s,
                    wait_s=settings.poll_s,
                )
            except SkyletError as error:
                log.warning("receiving SNS deliveries failed: %s", error)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.05
            for job in jobs:
                task = asyncio.create_task(self._run(queue, job))
                self._running.add(task)
                task.add_done_callback(self._running.discard)

    async def _run(self, queue: str, leased: Leased) -> None:
        job: dict[str, Any] = json.loads(leased.body)
        try:
            await self._attempt(job)
        except Failed as failure:
            await self._failed(queue, leased, job, failure)
            return
        except Exception:
            log.exception("SNS delivery to %s failed", job.get("endpoint"))
            await self._failed(queue, leased, job, Failed("internal error", client=False))
            return
        self.stats.delivered += 1
        await self._settle(queue, leased)

    async def _settle(self, queue: str, leased: Leased) -> None:
        try:
            await self._deletes.submit(queue, leased.receipt)
        except SkyletError as error:  # it comes back after its lease and is delivered again
            log.warning("deleting a delivered SNS job failed: %s", error)

    async def _failed(self, queue: str, leased: Leased, job: dict[str, Any], why: Failed) -> None:
        if not why.client:
            delay = self._policy(job).delay_s(leased.attempts)
            if delay is not None:
                self.stats.retried += 1
                with contextlib.suppress(SkyletError):
                    await self.store.change_visibility(
                        queue, leased.receipt, delay * self.settings.delay_scale
                    )
                return
        log.warning(
            "SNS gave up delivering to %s after %d tries: %s",
            job.get("endpoint"),
            leased.attempts,
            why,
        )
        dlq = job.get("dlq")
        if dlq and self.queues is not None and job["kind"] == "notification":
            body, attributes = self._queue_body(job)
            try:
                message = job["msg"]
                await self.queues.send(
                    dlq,
                    body,
                    attributes,
                    group_id=message.get("group"),
                    dedup_id=message.get("dedup"),
                )
                self.stats.dead_lettered += 1
            except SkyletError as error:
                if not client_side(error):
                    with contextlib.suppress(SkyletError):  # try the whole job again later
                        await self.store.change_visibility(queue, leased.receipt, 1.0)
                    return
                log.warning("SNS could not dead-letter to %s: %s", dlq, error)
                self.stats.dropped += 1
        else:
            self.stats.dropped += 1
        await self._settle(queue, leased)

    def _policy(self, job: dict[str, Any]) -> RetryPolicy:
        if job["protocol"] in ("http", "https"):
            given = job.get("policy")
            return RetryPolicy(**given) if given else HTTP_DEFAULT
        return MANAGED

    def _message(self, job: dict[str, Any]) -> Message:
        return Message.from_json(job["msg"])

    def _queue_body(self, job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        message = self._message(job)
        if job.get("raw"):
            return message.default, envelopes.sqs_attributes(message.attributes)
        assert self.links is not None
        document = envelopes.notification(message, job["sub"], self.links, job["sigv"])
        return json.dumps(document), {}

    async def _attempt(self, job: dict[str, Any]) -> None:
        # The publisher's trace: the invocation or message a delivery makes continues it.
        CURRENT.set(parse_traceparent(job.get("trace")))
        protocol = job["protocol"]
        if job["kind"] == "confirmation":
            await self._confirm(job)
        elif protocol == "lambda":
            await self._invoke(job)
        elif protocol == "sqs":
            if self.queues is None:
                raise Failed("no SQS service is bound to deliver to queues", client=True)
            body, attributes = self._queue_body(job)
            message = job["msg"]
            try:
                await self.queues.send(
                    job["endpoint"],
                    body,
                    attributes,
                    group_id=message.get("group"),
                    dedup_id=message.get("dedup"),
                )
            except SkyletError as error:
                raise Failed(str(error), client=client_side(error)) from error
        else:
            await self._post_notification(job)

    async def _invoke(self, job: dict[str, Any]) -> None:
        target = lambda_endpoint(job["endpoint"])
        message = self._message(job)
        try:
            style = self.functions.function(target.name, target.qualifier).style
            event: dict[str, Any]
            if style == "background":
                event = pubsub.background_event(message, self.project)
            elif style == "cloudevent":
                name = job["sub"].rsplit(":", 1)[-1]
                event = pubsub.cloud_event(message, self.project, name)
            else:
                assert self.links is not None
                event = envelopes.lambda_event(message, job["sub"], self.links, job["sigv"])
            payload = json.dumps(event).encode()
            await self.functions.enqueue_batch(target.name, [payload], qualifier=target.qualifier)
        except SkyletError as error:
            raise Failed(str(error), client=client_side(error)) from error

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            status = await self.http.post(url, body, headers)
        except (OSError, httpx.HTTPError) as error:
            raise Failed(f"{url}: {error!r}", client=False) from error
        if not 200 <= status < 300:
            raise Failed(f"{url} answered {status}", client=http_client_side(status))

    async def _post_notification(self, job: dict[str, Any]) -> None:
        message = self._message(job)
        raw = bool(job.get("raw"))
        headers = envelopes.http_headers(
            "Notification", message.message_id, message.topic_arn, job["sub"], raw=raw
        )
        body, _ = self._queue_body(job)
        await self._post(job["endpoint"], body.encode(), headers)

    async def _confirm(self, job: dict[str, Any]) -> None:
        assert self.links is not None
        document = envelopes.confirmation(
            message_id=job["id"],
            topic_arn=job["topic"],
            token=job["token"],
            timestamp=job["ts"],
            links=self.links,
            signature_version=job["sigv"],
        )
        headers = envelopes.http_headers(
            "SubscriptionConfirmation", job["id"], job["topic"], None, raw=False
        )
        await self._post(job["endpoint"], json.dumps(document).encode(), headers)
