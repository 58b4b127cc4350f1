"""Event source mappings from DynamoDB streams to functions: the manifest's ``stream`` events
of type dynamodb, each with its ``StreamPoller``.

    mappings = StreamMappings(store, invoker, tables, deliverer)    # no I/O
    await mappings.deploy(declared_stream_mappings(manifest))       # on each deploy
    await mappings.aclose()

A declared mapping's UUID is derived from its function and table, so its checkpoint (the
store's consumer offset under that UUID) is found again after a restart.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass

from skylet.aws.dynamodb.pollers import StreamPoller, StreamPollerConfig
from skylet.aws.dynamodb.resources import table_resources
from skylet.aws.dynamodb.service import Tables
from skylet.aws.dynamodb.streams import shard_id
from skylet.build.functions import manifest_destination
from skylet.config import Destination
from skylet.errors import ConfigError, ServiceError
from skylet.events import filters
from skylet.events.context import FunctionRunner
from skylet.events.destinations import Deliverer
from skylet.manifest import Manifest
from skylet.manifest.events import StreamEvent
from skylet.manifest.frozen import thaw
from skylet.manifest.intrinsics import Intrinsic
from skylet.store.base import Store

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
                )
            )
    return found


class StreamMappings:
    """The enabled stream mappings of this node and their pollers."""

    def __init__(
        self, store: Store, runner: FunctionRunner, tables: Tables, deliverer: Deliverer
    ) -> None:
        self._store = store
        self._runner = runner
        self._tables = tables
        self._deliverer = deliverer
        self._pollers: dict[str, StreamPoller] = {}

    def poller(self, mapping_id: str) -> StreamPoller | None:
        return self._pollers.get(mapping_id)

    async def deploy(self, mappings: list[StreamMapping]) -> None:
        wanted = {}
        for mapping in mappings:
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
        )

    async def aclose(self, grace_s: float = 10.0) -> None:
        pollers, self._pollers = list(self._pollers.values()), {}
        for poller in pollers:
            await poller.stop(grace_s)
