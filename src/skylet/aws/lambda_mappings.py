"""Event source mappings from SQS queues to functions: those the manifest declares (``sqs``
events) and those the Lambda API creates, each with its ``SqsPoller``.

    mappings = EventSourceMappings(store, invoker, queues)    # no I/O
    await mappings.start()                   # replays the API's mappings from the store
    await mappings.deploy(declared)          # the manifest's, on each deploy
    await mappings.aclose()                  # stops the pollers (batches under way finish)

A mapping the API creates is kept in the store (log ``skylet:event-source-mappings``, one
snapshot per change), so it survives a restart; one the manifest declares has a UUID derived
from its function and queue, the same on every start, and changes with the manifest only (the
API refuses to update or delete it). Each node polls its own mappings: on PostgreSQL, several
nodes' pollers compete for the same queue, as Lambda's do.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skylet.aws.sqs import Queues, lambda_event
from skylet.aws.sqs.pollers import PollerConfig, SqsPoller
from skylet.aws.sqs.resources import Names
from skylet.errors import ConfigError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.manifest import Manifest
from skylet.manifest.events import SqsEvent
from skylet.manifest.frozen import thaw
from skylet.store.base import Clock, Store
from skylet.store.types import TRIM_HORIZON, Message, QueueConfig

log = logging.getLogger(__name__)

LOG = "skylet:event-source-mappings"
_DECLARED = uuid.UUID("6f1d3c52-8e0b-4b7e-9d43-5a8c2e0f7b19")  # namespace of manifest UUIDs
DEFAULT_MAX_CONCURRENCY = 20
START_WORKERS = 2


@dataclass(frozen=True, slots=True)
class SqsMapping:
    """One mapping, with Lambda's defaults. ``patterns`` are FilterCriteria's JSON texts."""

    uuid: str
    function: str
    queue: str
    batch_size: int = 10
    window_s: int = 0
    enabled: bool = True
    report_failures: bool = False
    patterns: tuple[str, ...] = ()
    max_concurrency: int | None = None
    last_modified: float = 0.0
    declared: bool = False

    def record(self) -> dict[str, Any]:
        return {
            "uuid": self.uuid,
            "function": self.function,
            "queue": self.queue,
            "batch_size": self.batch_size,
            "window_s": self.window_s,
            "enabled": self.enabled,
            "report_failures": self.report_failures,
            "patterns": list(self.patterns),
            "max_concurrency": self.max_concurrency,
            "last_modified": self.last_modified,
        }

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> SqsMapping:
        return cls(
            uuid=raw["uuid"],
            function=raw["function"],
            queue=raw["queue"],
            batch_size=int(raw["batch_size"]),
            window_s=int(raw["window_s"]),
            enabled=bool(raw["enabled"]),
            report_failures=bool(raw["report_failures"]),
            patterns=tuple(raw.get("patterns") or ()),
            max_concurrency=raw.get("max_concurrency"),
            last_modified=float(raw.get("last_modified", 0.0)),
        )


def declared_uuid(function: str, queue: str) -> str:
    """A manifest mapping's UUID: the same for the same function and queue, every start."""
    return str(uuid.uuid5(_DECLARED, f"{function}\n{queue}"))


class EventSourceMappings:
    """Every mapping of this node, and its poller while it is enabled."""

    def __init__(
        self, store: Store, runner: FunctionRunner, queues: Queues, *, now: Clock = time.time
    ) -> None:
        self._store = store
        self._runner = runner
        self._queues = queues
        self._now = now
        self._api: dict[str, SqsMapping] = {}
        self._declared: dict[str, SqsMapping] = {}
        self._pollers: dict[str, SqsPoller] = {}
        self._started = False

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Replay the API's mappings from the store and start their pollers."""
        await self._store.create_log(LOG)
        after = await self._store.seek(LOG, 0, TRIM_HORIZON)
        while batch := await self._store.read(LOG, 0, after_sequence=after, limit=1_000):
            for entry in batch:
                raw = json.loads(entry.data)
                if raw.get("deleted"):
                    self._api.pop(raw["uuid"], None)
                else:
                    self._api[raw["uuid"]] = SqsMapping.from_record(raw)
            after = batch[-1].sequence
        self._started = True
        await self._refresh()

    async def deploy(self, declared: Iterable[SqsMapping]) -> None:
        """Poll exactly these manifest mappings (and the API's)."""
        self._declared = {m.uuid: m for m in declared}
        if self._started:
            await self._refresh()

    async def aclose(self, grace_s: float = 10.0) -> None:
        pollers, self._pollers = list(self._pollers.values()), {}
        for poller in pollers:
            await poller.stop(grace_s)
        self._started = False

    # -- what the Lambda API reads and changes --------------------------------------------------

    def all(self) -> list[SqsMapping]:
        return sorted([*self._declared.values(), *self._api.values()], key=lambda m: m.uuid)

    def get(self, mapping_id: str) -> SqsMapping | None:
        return self._declared.get(mapping_id) or self._api.get(mapping_id)

    def queue_arn(self, queue: str) -> str:
        return self._queues.arn(queue)

    async def queue_config(self, queue: str) -> QueueConfig | None:
        return await self._store.get_queue(queue)

    def poller(self, mapping_id: str) -> SqsPoller | None:
        return self._pollers.get(mapping_id)

    async def put(self, mapping: SqsMapping) -> SqsMapping:
        """Create or replace an API mapping; durable before it returns."""
        stamped = dataclasses.replace(mapping, last_modified=self._now(), declared=False)
        await self._store.append(LOG, [json.dumps(stamped.record()).encode()])
        self._api[stamped.uuid] = stamped
        await self._refresh()
        return stamped

    async def delete(self, mapping_id: str) -> None:
        await self._store.append(LOG, [json.dumps({"uuid": mapping_id, "deleted": True}).encode()])
        self._api.pop(mapping_id, None)
        await self._refresh()

    # -- pollers ------------------------------------------------------------------------------

    async def _refresh(self) -> None:
        """Start, restart (changed) or stop pollers to match the enabled mappings."""
        wanted = {m.uuid: m for m in self.all() if m.enabled}
        for mapping_id in list(self._pollers):
            mapping = wanted.get(mapping_id)
            poller = self._pollers[mapping_id]
            if mapping is None or poller.config != self._config(mapping):
                del self._pollers[mapping_id]
                await poller.stop()
        for mapping_id, mapping in wanted.items():
            if mapping_id not in self._pollers:
                poller = SqsPoller(
                    self._config(mapping),
                    self._store,
                    self._runner,
                    record=self._record_of(mapping),
                )
                poller.start()
                self._pollers[mapping_id] = poller

    def _config(self, mapping: SqsMapping) -> PollerConfig:
        patterns = []
        for text in mapping.patterns:
            with contextlib.suppress(filters.PatternError):  # checked when it was made
                patterns.append(filters.parse(text))
        maximum = mapping.max_concurrency or DEFAULT_MAX_CONCURRENCY
        return PollerConfig(
            function=mapping.function,
            queue=mapping.queue,
            queue_arn=self._queues.arn(mapping.queue),
            region=self._queues.region,
            batch_size=mapping.batch_size,
            window_s=float(mapping.window_s),
            report_failures=mapping.report_failures,
            patterns=tuple(patterns),
            start_workers=min(START_WORKERS, maximum),
            max_workers=maximum,
        )

    def _record_of(self, mapping: SqsMapping) -> Any:
        queues = self._queues
        queue_arn = queues.arn(mapping.queue)

        def record(message: Message) -> dict[str, Any]:
            return lambda_event.record(
                message,
                queue_arn=queue_arn,
                region=queues.region,
                sender=queues.account,
                arn=queues.arn,
            )

        return record


def declared_mappings(manifest: Manifest, names: Names) -> list[SqsMapping]:
    """The mappings the manifest's ``sqs`` events declare; ConfigError for a filter pattern
    Lambda would refuse."""
    found: list[SqsMapping] = []
    for key, spec in manifest.functions.items():
        for index, event in enumerate(spec.events):
            if not isinstance(event, SqsEvent):
                continue
            queue = names.event_queue(event)
            if queue is None:
                continue
            patterns = []
            for pattern in event.filter_patterns:
                text = json.dumps(thaw(pattern))
                try:
                    filters.parse(text)
                except filters.PatternError as error:
                    raise ConfigError(
                        f"{manifest.source}: functions.{key}.events[{index}].sqs.filterPatterns: "
                        f"{text} is not a filter pattern ({error})"
                    ) from None
                patterns.append(text)
            found.append(
                SqsMapping(
                    uuid=declared_uuid(spec.name, queue),
                    function=spec.name,
                    queue=queue,
                    batch_size=event.batch_size,
                    window_s=event.maximum_batching_window_s,
                    enabled=event.enabled,
                    report_failures=event.function_response_type == "ReportBatchItemFailures",
                    patterns=tuple(patterns),
                    max_concurrency=event.maximum_concurrency,
                    declared=True,
                )
            )
    return found
