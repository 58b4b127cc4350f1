"""Archives and replays: ``CreateArchive``/``DescribeArchive``/``ListArchives``/
``UpdateArchive``/``DeleteArchive`` and ``StartReplay``/``DescribeReplay``/``ListReplays``/
``CancelReplay``, as EventBridge has them.

An archive keeps the events of one bus (those its optional ``EventPattern`` matches) in a store
log, ``skylet:events:archive:NAME``, each appended before PutEvents answers; its records'
timestamps are the events' ingestion times, and ``RetentionDays`` (0: for ever) trims older
ones. A replay reads the archive's events ingested in [``EventStartTime``, ``EventEndTime``)
and sends each again to the bus, with ``replay-name`` added to the event, to the rules
``Destination.FilterArns`` names (every rule of the bus without it). A replayed event is not
archived again. The archives and the replays' states are records of the catalog, so they
survive a restart; a replay running when skylet stopped is marked ``FAILED`` on start (its
events up to ``EventLastReplayedTime`` were sent).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from skylet.aws.eventbridge.pattern import EventPattern, parse
from skylet.store.base import LogStore
from skylet.store.types import AtTimestamp

log = logging.getLogger(__name__)

ARCHIVE_LOG = "skylet:events:archive:{}"
_READ = 500
FINISHED = ("COMPLETED", "CANCELLED", "FAILED")


def archive_log(name: str) -> str:
    return ARCHIVE_LOG.format(name)


@dataclass(frozen=True, slots=True)
class Archive:
    name: str
    bus: str
    pattern: str | None = None
    description: str = ""
    retention_days: int = 0
    created_at: float = 0.0

    def compiled(self) -> EventPattern | None:
        return parse(self.pattern) if self.pattern else None


@dataclass(frozen=True, slots=True)
class Replay:
    name: str
    archive: str
    bus: str
    start_s: float
    end_s: float
    rules: tuple[str, ...] = ()  # rule names FilterArns named; () = every rule of the bus
    destination: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    state: str = "STARTING"
    reason: str = ""
    started_at: float = 0.0
    ended_at: float | None = None
    last_replayed_s: float | None = None


#: Sends one replayed event on a bus to the named rules (() = all): the router's ``route``.
Resend = Callable[[str, Mapping[str, Any], frozenset[str] | None], Awaitable[int]]
#: Keeps a replay's new state (the catalog's ``put_replay``).
Keep = Callable[[Replay], Awaitable[None]]


class Replayer:
    """Runs replays on this node: one task each, cancellable. Built without I/O."""

    def __init__(self, store: LogStore, resend: Resend, keep: Keep, now: Callable[[], float]):
        self._store = store
        self._resend = resend
        self._keep = keep
        self._now = now
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()

    def start(self, replay: Replay) -> None:
        self._tasks[replay.name] = asyncio.create_task(self._run(replay))

    def cancel(self, name: str) -> None:
        self._cancelled.add(name)

    async def wait(self, name: str) -> None:
        task = self._tasks.get(name)
        if task is not None:
            await asyncio.shield(task)

    async def _run(self, replay: Replay) -> None:
        replay = replace(replay, state="RUNNING")
        await self._keep(replay)
        only = frozenset(replay.rules) or None
        name = archive_log(replay.archive)
        try:
            after = await self._store.seek(name, 0, AtTimestamp(replay.start_s))
            while replay.name not in self._cancelled:
                records = await self._store.read(name, 0, after_sequence=after, limit=_READ)
                for record in records:
                    if record.timestamp >= replay.end_s or replay.name in self._cancelled:
                        break
                    event = {**json.loads(record.data), "replay-name": replay.name}
                    await self._resend(replay.bus, event, only)
                    replay = replace(replay, last_replayed_s=record.timestamp)
                else:
                    if len(records) == _READ:
                        after = records[-1].sequence
                        continue
                break
            state = "CANCELLED" if replay.name in self._cancelled else "COMPLETED"
            replay = replace(replay, state=state, ended_at=self._now())
        except Exception as error:  # a replay that cannot go on says why, as AWS's FAILED does
            log.warning("replay %s failed: %s", replay.name, error)
            replay = replace(replay, state="FAILED", reason=str(error), ended_at=self._now())
        self._cancelled.discard(replay.name)
        await self._keep(replay)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()


def replay_record(replay: Replay) -> dict[str, Any]:
    return {"kind": "replay", **asdict(replay)}


def archive_record(archive: Archive) -> dict[str, Any]:
    return {"kind": "archive", **asdict(archive)}
