"""The queue operations: CreateQueue, GetQueueUrl, ListQueues, Get/SetQueueAttributes,
DeleteQueue, PurgeQueue, ListDeadLetterSourceQueues and the tag operations."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.aws.sqs import attributes, names
from skylet.aws.sqs.base import QueueService
from skylet.aws.sqs.errors import (
    invalid_parameter,
    invalid_value,
    non_existent_queue,
    purge_in_progress,
    queue_exists,
)
from skylet.aws.sqs.resources import DeclaredQueue
from skylet.errors import ConfigError, InvalidParameterValue, ServiceError, StoreConflict
from skylet.store.types import QueueConfig, QueueStats

#: SQS lets one PurgeQueue run per queue every 60 seconds.
PURGE_INTERVAL_S = 60.0
MAX_LIST_RESULTS = 1_000
MAX_TAGS = 50


class QueueOperations(QueueService):
    # -- creating and finding -----------------------------------------------------------------

    async def create_queue(self, request: Params, context: RequestContext | None) -> Params:
        name = request["QueueName"]
        given = dict(request.get("Attributes") or {})
        # A .fifo name without FifoQueue=true, or the reverse, fails the name's check.
        fifo = str(given.get("FifoQueue", "")).lower() == "true"
        names.check_name(name, fifo=fifo)
        checked = attributes.check(given, fifo=fifo, creating=True)
        existing = await self.store.get_queue(name)
        if existing is None:
            wanted = attributes.apply(QueueConfig(name, fifo=fifo), checked, self._dead_letter)
            wanted = attributes.with_tags(wanted, _tags(request.get("tags") or {}))
            await self._check_dead_letter(wanted, checked.get("RedrivePolicy"))
            try:
                await self.store.create_queue(
                    name,
                    visibility_timeout_s=wanted.visibility_timeout_s,
                    retention_s=wanted.retention_s,
                    max_receive_count=wanted.max_receive_count,
                    dead_letter_queue=wanted.dead_letter_queue,
                    fifo=fifo,
                    delay_s=wanted.delay_s,
                    attributes=wanted.attributes,
                )
                return {"QueueUrl": self.url(name, context)}
            except StoreConflict:  # created meanwhile by another request: compare with it
                existing = await self.queue_named(name)
        if existing.fifo != fifo:
            raise queue_exists("FifoQueue")
        changed = attributes.changed_attribute(attributes.settable(existing, self.arn), checked)
        if changed is not None:
            raise queue_exists(changed)
        return {"QueueUrl": self.url(name, context)}

    def _dead_letter(self, policy: str) -> tuple[str, int] | None:
        target = attributes.redrive_target(policy)
        if target is None:
            return None
        arn, count = target
        return self.name_from_arn(arn, "RedrivePolicy"), count

    async def _check_dead_letter(self, config: QueueConfig, policy: str | None) -> None:
        """The dead-letter queue a RedrivePolicy given (``policy``) names exists, is of the
        source's type and lets the source use it (its RedriveAllowPolicy); SQS's errors
        otherwise."""
        dlq_name = config.dead_letter_queue
        if dlq_name is None or policy is None:
            return
        dlq = await self.store.get_queue(dlq_name)
        reason = None
        if dlq is None:
            reason = "Dead letter target does not exist."
        elif dlq.fifo != config.fifo:
            reason = "Dead-letter queue must be same type of queue as the source."
        elif not attributes.allows_redrive(dlq, self.arn(config.name)):
            reason = f"Queue {self.arn(dlq_name)} does not allow this queue as a source."
        if reason is not None:
            raise invalid_parameter(
                f"Value {policy} for parameter RedrivePolicy is invalid. Reason: {reason}"
            )

    async def get_queue_url(self, request: Params, context: RequestContext) -> Params:
        owner = request.get("QueueOwnerAWSAccountId")
        name = request["QueueName"]
        if owner not in (None, self.account) or await self.store.get_queue(name) is None:
            raise non_existent_queue()
        if not names.is_queue_name(name):
            raise non_existent_queue()
        return {"QueueUrl": self.url(name, context)}

    async def list_queues(self, request: Params, context: RequestContext) -> Params:
        prefix = request.get("QueueNamePrefix") or ""
        found = [
            q.name for q in await self.store.list_queues(prefix) if names.is_queue_name(q.name)
        ]
        page, token = _page(found, request)
        result: Params = {"QueueUrls": [self.url(name, context) for name in page]} if page else {}
        if token is not None:
            result["NextToken"] = token
        return result

    async def queue_depths(self) -> dict[str, QueueStats]:
        """Every SQS queue's counts and oldest message's age (for metrics)."""
        return {
            q.name: await self.store.queue_stats(q.name)
            for q in await self.store.list_queues()
            if names.is_queue_name(q.name)
        }

    # -- attributes -----------------------------------------------------------------------------

    async def get_queue_attributes(self, request: Params, context: RequestContext) -> Params:
        config = await self.queue(request)
        wanted = attributes.check_names(request.get("AttributeNames") or [])
        if not wanted:
            return {}
        stats = await self.store.queue_stats(config.name)
        shown = attributes.shown(config, stats, wanted, arn=self.arn)
        return {"Attributes": shown} if shown else {}

    async def set_queue_attributes(self, request: Params, context: RequestContext | None) -> None:
        config = await self.queue(request)
        checked = attributes.check(
            request.get("Attributes") or {}, fifo=config.fifo, creating=False
        )
        checked.pop("FifoQueue", None)
        updated = attributes.apply(config, checked, self._dead_letter)
        await self._check_dead_letter(updated, checked.get("RedrivePolicy"))
        await self._update(updated)

    async def _update(self, config: QueueConfig) -> QueueConfig:
        try:
            return await self.store.update_queue(config)
        except InvalidParameterValue as error:  # the store's own check (a type change, a range)
            raise invalid_parameter(error.message) from None

    async def declare(self, queue: DeclaredQueue) -> None:
        """A queue the manifest declares exists with the attributes and tags it declares:
        created, or changed to match (as a CloudFormation update would); ConfigError, naming
        the resource, for what SQS refuses."""
        try:
            try:
                created = dict(queue.attributes)
                if created.get("RedrivePolicy") == "":
                    del created["RedrivePolicy"]
                await self.create_queue(
                    {"QueueName": queue.name, "Attributes": created, "tags": dict(queue.tags)}, None
                )
            except ServiceError as error:
                if error.code != "QueueNameExists":
                    raise
                changed = {k: v for k, v in queue.attributes.items() if k != "FifoQueue"}
                await self.set_queue_attributes(
                    {"QueueUrl": queue.name, "Attributes": changed}, None
                )
                config = await self.queue_named(queue.name)
                stale = [k for k in attributes.tags(config) if k not in queue.tags]
                await self._update(attributes.with_tags(config, dict(queue.tags), stale))
        except ServiceError as error:
            raise ConfigError(
                f"resources.{queue.logical_id} (queue {queue.name}): {error.message}"
            ) from None

    # -- deleting and purging -------------------------------------------------------------------

    async def delete_queue(self, request: Params, context: RequestContext) -> None:
        name = self.name_of(request)
        if not await self.store.delete_queue(name):
            raise non_existent_queue()

    async def purge_queue(self, request: Params, context: RequestContext) -> None:
        config = await self.queue(request)
        now = self.now()
        last = self.purged.get(config.name)
        if last is not None and now - last < PURGE_INTERVAL_S:
            raise purge_in_progress(config.name)
        self.purged[config.name] = now
        await self.store.purge_queue(config.name)

    async def list_dead_letter_source_queues(
        self, request: Params, context: RequestContext
    ) -> Params:
        config = await self.queue(request)
        sources = [
            q.name for q in await self.store.list_queues() if q.dead_letter_queue == config.name
        ]
        page, token = _page(sources, request)
        result: Params = {"queueUrls": [self.url(name, context) for name in page]}
        if token is not None:
            result["NextToken"] = token
        return result

    # -- tags -----------------------------------------------------------------------------------

    async def tag_queue(self, request: Params, context: RequestContext) -> None:
        config = await self.queue(request)
        tagged = attributes.with_tags(config, _tags(request.get("Tags") or {}))
        if len(attributes.tags(tagged)) > MAX_TAGS:
            raise invalid_parameter(f"Too many tags added for queue {config.name}.")
        await self._update(tagged)

    async def untag_queue(self, request: Params, context: RequestContext) -> None:
        config = await self.queue(request)
        await self._update(attributes.with_tags(config, {}, request.get("TagKeys") or []))

    async def list_queue_tags(self, request: Params, context: RequestContext) -> Params:
        found = attributes.tags(await self.queue(request))
        return {"Tags": found} if found else {}


def _tags(given: Mapping[str, str]) -> dict[str, str]:
    for key, value in given.items():
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise invalid_parameter(
                f"Tag {key!r}: keys are 1 to 128 characters and values at most 256."
            )
    return dict(given)


def _page(names_found: list[str], request: Params) -> tuple[list[str], str | None]:
    """A page of names after NextToken, MaxResults long (1-1000); without MaxResults the
    first 1,000 and no token, as SQS pages."""
    limit = request.get("MaxResults")
    token = request.get("NextToken")
    start = 0
    if token:
        try:
            after = base64.b64decode(token.encode(), altchars=b"-_", validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise invalid_parameter("Invalid NextToken value.") from None
        start = next((i for i, name in enumerate(names_found) if name > after), len(names_found))
    if limit is None:
        return names_found[start : start + MAX_LIST_RESULTS], None
    if not 1 <= limit <= MAX_LIST_RESULTS:
        raise invalid_value(
            "MaxResults", limit, "MaxResults must be an integer between 1 and 1000."
        )
    page = names_found[start : start + limit]
    more = start + limit < len(names_found)
    return page, base64.urlsafe_b64encode(page[-1].encode()).decode() if more and page else None
