"""The archive and replay operations of ``events`` (``archives.py`` says what they do): a part
of the ``EventBridge`` service, kept apart so that each module holds one concept."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from skylet import arns
from skylet.aws.eventbridge.archives import FINISHED, Archive, Replay, Replayer, archive_log
from skylet.aws.eventbridge.catalog import Catalog
from skylet.aws.eventbridge.delivery import Router
from skylet.aws.eventbridge.pattern import EventPattern, compile_pattern
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError
from skylet.store.base import Store


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, status=400, sender_fault=True)


def _not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)


def _bus_of(value: str) -> str:
    return value.split(":event-bus/", 1)[1] if ":event-bus/" in value else value


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class ArchiveApi:
    """CreateArchive … CancelReplay, over the service's catalog, store and replayer."""

    catalog: Catalog
    router: Router
    replayer: Replayer
    _store: Store
    _now: Callable[[], float]
    _archive_key: tuple[Archive, ...]
    _compiled_archives: list[tuple[Archive, EventPattern | None]]

    async def _archive(self, bus: str, event: Mapping[str, Any]) -> None:
        """Keep ``event`` in each of ``bus``'s archives whose pattern it matches."""
        if "replay-name" in event:
            return  # a replayed event is not archived again
        for archive, pattern in self._archives_of(bus):
            if pattern is None or pattern.matches(event):
                data = json.dumps(event, separators=(",", ":")).encode()
                await self._store.append(archive_log(archive.name), [data])

    def _archives_of(self, bus: str) -> list[tuple[Archive, EventPattern | None]]:
        key = tuple(self.catalog.archives.values())
        if self._archive_key != key:
            self._archive_key = key
            self._compiled_archives = [(a, a.compiled()) for a in key]
        return [(a, p) for a, p in self._compiled_archives if a.bus == bus]

    def _archive_arn(self, name: str, context: RequestContext) -> str:
        return arns.arn(
            "events", f"archive/{name}", region=context.region, account=context.account_id
        )

    def _replay_arn(self, name: str, context: RequestContext) -> str:
        return arns.arn(
            "events", f"replay/{name}", region=context.region, account=context.account_id
        )

    async def _the_archive(self, name: str) -> Archive:
        await self.catalog.refresh()
        archive = self.catalog.archives.get(name)
        if archive is None:
            raise _not_found(f"Archive {name} does not exist.")
        return archive

    async def create_archive(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        name = request["ArchiveName"]
        bus = _bus_of(request["EventSourceArn"])
        if bus not in self.catalog.buses:
            raise _not_found(f"Event bus {bus} does not exist.")
        if name in self.catalog.archives:
            raise ServiceError("ResourceAlreadyExistsException", f"Archive {name} already exists.")
        if request.get("EventPattern"):
            compile_pattern(request["EventPattern"])
        archive = Archive(
            name,
            bus,
            request.get("EventPattern") or None,
            request.get("Description", ""),
            int(request.get("RetentionDays") or 0),
            self._now(),
        )
        await self._store.create_log(archive_log(name))
        await self.catalog.put_archive(archive)
        return self._archive_state(archive, context)

    def _archive_state(self, archive: Archive, context: RequestContext) -> Params:
        return {
            "ArchiveArn": self._archive_arn(archive.name, context),
            "State": "ENABLED",
            "CreationTime": datetime.fromtimestamp(archive.created_at, UTC),
        }

    async def update_archive(self, request: Params, context: RequestContext) -> Params:
        archive = await self._the_archive(request["ArchiveName"])
        if request.get("EventPattern"):
            compile_pattern(request["EventPattern"])
        changed = dataclasses.replace(
            archive,
            pattern=request.get("EventPattern", archive.pattern) or None,
            description=request.get("Description", archive.description),
            retention_days=int(request.get("RetentionDays", archive.retention_days) or 0),
        )
        await self.catalog.put_archive(changed)
        return self._archive_state(changed, context)

    async def delete_archive(self, request: Params, context: RequestContext) -> Params:
        archive = await self._the_archive(request["ArchiveName"])
        await self.catalog.delete_archive(archive.name)
        await self._store.delete_log(archive_log(archive.name))
        return {}

    async def _archive_row(self, archive: Archive, context: RequestContext) -> Params:
        name = archive_log(archive.name)
        if archive.retention_days:
            await self._store.trim(name, self._now() - archive.retention_days * 86_400)
        count = size = 0
        after = 0
        while records := await self._store.read(name, 0, after_sequence=after, limit=1000):
            count += len(records)
            size += sum(len(r.data) for r in records)
            after = records[-1].sequence
        row: Params = {
            "ArchiveName": archive.name,
            "EventSourceArn": arns.arn(
                "events",
                f"event-bus/{archive.bus}",
                region=context.region,
                account=context.account_id,
            ),
            "State": "ENABLED",
            "RetentionDays": archive.retention_days,
            "SizeBytes": size,
            "EventCount": count,
            "CreationTime": datetime.fromtimestamp(archive.created_at, UTC),
        }
        return row

    async def describe_archive(self, request: Params, context: RequestContext) -> Params:
        archive = await self._the_archive(request["ArchiveName"])
        row = await self._archive_row(archive, context)
        row["ArchiveArn"] = self._archive_arn(archive.name, context)
        if archive.description:
            row["Description"] = archive.description
        if archive.pattern:
            row["EventPattern"] = archive.pattern
        return row

    async def list_archives(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        prefix = request.get("NamePrefix", "")
        source = request.get("EventSourceArn")
        rows = [
            await self._archive_row(a, context)
            for a in sorted(self.catalog.archives.values(), key=lambda a: a.name)
            if a.name.startswith(prefix) and (source is None or _bus_of(source) == a.bus)
        ]
        if request.get("State"):
            rows = [r for r in rows if r["State"] == request["State"]]
        return _page("Archives", rows, request)

    async def start_replay(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        name = request["ReplayName"]
        source = str(request["EventSourceArn"])
        archive = self.catalog.archives.get(source.rsplit("archive/", 1)[-1])
        if archive is None:
            raise _validation(
                "Parameter EventSourceArn is not valid. Reason: Archive "
                f"{source.rsplit('/', 1)[-1]} does not exist."
            )
        destination = dict(request["Destination"])
        if ":event-bus/" not in str(destination.get("Arn", "")):
            raise _validation(
                "Parameter Destination.Arn is not valid. Reason: Must contain an event bus ARN."
            )
        if _bus_of(destination["Arn"]) != archive.bus:
            raise _validation(
                "Parameter Destination.Arn is not valid. "
                "Reason: Cross event bus replay is not permitted."
            )
        start_s, end_s = _epoch(request["EventStartTime"]), _epoch(request["EventEndTime"])
        if end_s <= start_s:
            raise _validation(
                "Parameter EventEndTime is not valid. "
                "Reason: EventStartTime must be before EventEndTime."
            )
        if name in self.catalog.replays:
            raise ServiceError("ResourceAlreadyExistsException", f"Replay {name} already exists.")
        rules = tuple(str(arn).rsplit("/", 1)[-1] for arn in destination.get("FilterArns") or ())
        replay = Replay(
            name,
            archive.name,
            archive.bus,
            start_s,
            end_s,
            rules,
            destination,
            request.get("Description", ""),
            started_at=self._now(),
        )
        self.router.region, self.router.account = context.region, context.account_id
        await self.catalog.put_replay(replay)
        self.replayer.start(replay)
        return {
            "ReplayArn": self._replay_arn(name, context),
            "State": "STARTING",
            "ReplayStartTime": datetime.fromtimestamp(replay.started_at, UTC),
        }

    async def _the_replay(self, name: str) -> Replay:
        await self.catalog.refresh()
        replay = self.catalog.replays.get(name)
        if replay is None:
            raise _not_found(f"Replay {name} does not exist.")
        return replay

    def _replay_row(self, replay: Replay, context: RequestContext) -> Params:
        def when(epoch: float | None) -> datetime | None:
            return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

        row: Params = {
            "ReplayName": replay.name,
            "EventSourceArn": self._archive_arn(replay.archive, context),
            "State": replay.state,
            "EventStartTime": when(replay.start_s),
            "EventEndTime": when(replay.end_s),
            "ReplayStartTime": when(replay.started_at),
        }
        if replay.reason:
            row["StateReason"] = replay.reason
        if replay.last_replayed_s is not None:
            row["EventLastReplayedTime"] = when(replay.last_replayed_s)
        if replay.ended_at is not None:
            row["ReplayEndTime"] = when(replay.ended_at)
        return row

    async def describe_replay(self, request: Params, context: RequestContext) -> Params:
        replay = await self._the_replay(request["ReplayName"])
        row = self._replay_row(replay, context)
        row["ReplayArn"] = self._replay_arn(replay.name, context)
        row["Destination"] = dict(replay.destination)
        if replay.description:
            row["Description"] = replay.description
        return row

    async def list_replays(self, request: Params, context: RequestContext) -> Params:
        await self.catalog.refresh()
        prefix, state = request.get("NamePrefix", ""), request.get("State")
        source = request.get("EventSourceArn")
        rows = [
            self._replay_row(r, context)
            for r in sorted(self.catalog.replays.values(), key=lambda r: r.name)
            if r.name.startswith(prefix)
            and (state is None or r.state == state)
            and (source is None or str(source).rsplit("/", 1)[-1] == r.archive)
        ]
        return _page("Replays", rows, request)

    async def cancel_replay(self, request: Params, context: RequestContext) -> Params:
        replay = await self._the_replay(request["ReplayName"])
        if replay.state in FINISHED or replay.state == "CANCELLING":
            raise ServiceError(
                "IllegalStatusException",
                f"Replay {replay.name} is not in a valid state for this operation.",
            )
        self.replayer.cancel(replay.name)
        return {"ReplayArn": self._replay_arn(replay.name, context), "State": "CANCELLING"}


def _page(key: str, rows: list[Params], request: Params) -> Params:
    token = request.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    limit = int(request.get("Limit") or 100)
    answer: Params = {key: rows[start : start + limit]}
    if start + limit < len(rows):
        answer["NextToken"] = str(start + limit)
    return answer
