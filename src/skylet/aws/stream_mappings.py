"""Event source mappings from DynamoDB streams to functions: the manifest's ``stream`` events
of type dynamodb and those the Lambda API creates, each with its ``StreamPoller``.

    mappings = StreamMappings(store, invoker, tables, deliverer)    # no I/O
    await mappings.start()                                          # the API's, from the store
    await mappings.deploy(declared_stream_mappings(manifest))       # on each deploy
    await mappings.aclose()

A declared mapping's UUID is derived from its function and table, so its checkpoint (the
store's consumer offset under that UUID) is found again after a restart. One the API creates
is kept in the store (log ``skylet:stream-mappings``, one snapshot per change) and survives a
restart with its checkpoint; the API changes only those (docs/lambda-api.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from skylet.aws.dynamodb.pollers import StreamPoller, StreamPollerConfig
from skylet.aws.dynamodb.resources import table_resources
from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.streams import shard_id
from skylet.build.functions import manifest_destination
from skylet.config import Destination, parse_destination
from skylet.errors import ConfigError, ServiceError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.events.destinations import Deliverer
from skylet.manifest import Manifest
from skylet.manifest.events import StreamEvent
from skylet.manifest.frozen import thaw
from skylet.manifest.intrinsics import Intrinsic
from skylet.store.base import Clock, Store
from skylet.store.types import TRIM_HORIZON

LOG = "skylet:stream-mappings"
_DECLARED = uuid.UUID("0b6f8f0e-3c1d-4f57-a1f4-7d9e2c6a5b31")


@dataclass(frozen=True, slots=True)
class StreamMapping:
    uuid: str
    function: str
    table: str
    batch_size: int = 100
    window_s: int = 0
    starting_position: str = "TRIM_HORIZON"
    bisect: bool = False
    max_retries: int = -1
    max_age_s: int = -1
    report_failures: bool = False
    patterns: tuple[str, ...] = ()
    on_failure: Destination | None = None
    enabled: bool = True
    parallelization: int = 1
    tumbling_window_s: int = 0
    last_modified: float = 0.0
    declared: bool = False

    def record(self) -> dict[str, Any]:
        """The mapping as the store keeps it (JSON values)."""
        raw = dataclasses.asdict(self)
        raw["patterns"] = list(self.patterns)
        raw["on_failure"] = str(self.on_failure) if self.on_failure is not None else None
        del raw["declared"]
        return raw

    @classmethod
    def from_record(cls, raw: dict[str, Any]) -> StreamMapping:
        fields = {f.name for f in dataclasses.fields(cls)} - {"declared"}
        values = {k: v for k, v in raw.items() if k in fields}
        values["patterns"] = tuple(raw.get("patterns") or ())
        failure = raw.get("on_failure")
        values["on_failure"] = _destination(failure) if failure else None
        return cls(**values)


def _destination(text: str) -> Destination:
    kind, _, rest = text.partition(":")
    name, _, qualifier = rest.partition(":")
    if kind == "function" and qualifier:
        return Destination("function", name, qualifier)
    return parse_destination(text)


def declared_stream_mappings(manifest: Manifest) -> list[StreamMapping]:
    """The mappings the manifest's dynamodb ``stream`` events declare."""
    tables = table_resources(manifest)
    found = []
    for key, spec in manifest.functions.items():
        for index, event in enumerate(spec.events):
            if not isinstance(event, StreamEvent) or event.type != "dynamodb":
                continue
            where = f"{manifest.source}: functions.{key}.events[{index}].stream"
            if isinstance(event.arn, Intrinsic):
                resource = tables.get(event.arn.logical_id or "")
                if resource is None:
                    continue
                table = resource.name_in(manifest.service, manifest.stage)
            else:
                table = event.arn.split(":table/", 1)[-1].split("/", 1)[0]
            patterns = []
            for pattern in event.filter_patterns:
                text = json.dumps(thaw(pattern))
                try:
                    filters.parse(text)
                except filters.PatternError as error:
                    raise ConfigError(f"{where}.filterPatterns: {text} ({error})") from None
                patterns.append(text)
            found.append(
                StreamMapping(
                    uuid=str(uuid.uuid5(_DECLARED, f"{spec.name}\n{table}")),
                    function=spec.name,
                    table=table,
                    batch_size=event.batch_size,
                    window_s=event.batch_window_s,
                    starting_position=event.starting_position,
                    bisect=event.bisect_batch_on_function_error,
                    max_retries=event.maximum_retry_attempts,
                    max_age_s=event.maximum_record_age_s,
                    report_failures=event.function_response_type == "ReportBatchItemFailures",
                    patterns=tuple(patterns),
                    on_failure=manifest_destination(manifest, event.on_failure, key, "onFailure")
                    if event.on_failure is not None
                    else None,
                    enabled=event.enabled,
                    parallelization=event.parallelization_factor,
                    tumbling_window_s=event.tumbling_window_s,
                    declared=True,
                )
            )
    return found


class StreamMappings:
    """The enabled stream mappings of this node and their pollers."""

    def __init__(
        self,
        store: Store,
        runner: FunctionRunner,
        tables: Tables,
        deliverer: Deliverer,
        *,
        now: Clock = time.time,
    ) -> None:
        self._store = store
        self._runner = runner
        self._tables = tables
        self._deliverer = deliverer
        self._now = now
        self._pollers: dict[str, StreamPoller] = {}
        self._api: dict[str, StreamMapping] = {}
        self._declared: dict[str, StreamMapping] = {}

    def poller(self, mapping_id: str) -> StreamPoller | None:
        return self._pollers.get(mapping_id)

    async def start(self) -> None:
        """Replay the API's mappings from the store (their pollers start with ``deploy``)."""
        await self._store.create_log(LOG)
        after = await self._store.seek(LOG, 0, TRIM_HORIZON)
        while batch := await self._store.read(LOG, 0, after_sequence=after, limit=1_000):
            for entry in batch:
                raw = json.loads(entry.data)
                if raw.get("deleted"):
                    self._api.pop(raw["uuid"], None)
                else:
                    self._api[raw["uuid"]] = StreamMapping.from_record(raw)
            after = batch[-1].sequence

    # -- what the Lambda API reads and changes --------------------------------------------------

    def all(self) -> list[StreamMapping]:
        return sorted([*self._declared.values(), *self._api.values()], key=lambda m: m.uuid)

    def get(self, mapping_id: str) -> StreamMapping | None:
        return self._declared.get(mapping_id) or self._api.get(mapping_id)

    @property
    def tables(self) -> Tables:
        return self._tables

    async def put(self, mapping: StreamMapping) -> StreamMapping:
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

    async def deploy(self, mappings: Iterable[StreamMapping]) -> None:
        """Poll exactly these manifest mappings, and the API's."""
        self._declared = {m.uuid: m for m in mappings}
        await self._refresh()

    async def _refresh(self) -> None:
        wanted = {}
        for mapping in self.all():
            if not mapping.enabled:
                continue
            with contextlib.suppress(ServiceError):  # a table not (yet) there: no poller
                wanted[mapping.uuid] = await self._config(mapping)
        for mapping_id in list(self._pollers):
            if self._pollers[mapping_id].config != wanted.get(mapping_id):
                await self._pollers.pop(mapping_id).stop()
        for mapping_id, config in wanted.items():
            if mapping_id not in self._pollers:
                poller = StreamPoller(config, self._store, self._runner, self._deliverer)
                poller.start()
                self._pollers[mapping_id] = poller

    async def _config(self, mapping: StreamMapping) -> StreamPollerConfig:
        table = await self._tables.table(mapping.table)
        arn = table.description.get("LatestStreamArn")
        if arn is None or table.stream_view is None:
            raise ServiceError("ResourceNotFoundException", f"{mapping.table} has no stream")
        return StreamPollerConfig(
            uuid=mapping.uuid,
            function=mapping.function,
            table=mapping.table,
            stream_arn=str(arn),
            shard_id=shard_id(table),
            batch_size=mapping.batch_size,
            window_s=float(mapping.window_s),
            starting_position=mapping.starting_position,
            bisect=mapping.bisect,
            max_retries=mapping.max_retries,
            max_age_s=mapping.max_age_s,
            report_failures=mapping.report_failures,
            patterns=tuple(filters.parse(p) for p in mapping.patterns),
            on_failure=mapping.on_failure,
            parallelization=mapping.parallelization,
            tumbling_window_s=mapping.tumbling_window_s,
        )

    async def aclose(self, grace_s: float = 10.0) -> None:
        pollers, self._pollers = list(self._pollers.values()), {}
        for poller in pollers:
            await poller.stop(grace_s)
