"""Log events that clients write with PutLogEvents, kept in the store: one store log per log
group (``skylet.log-group/NAME``), one record per PutLogEvents call (its stream and events).

Each event's ``eventId`` is its timestamp (20 digits), the record's sequence (18) and its
place in the call (18), so they sort in time order, a call's events in the order written, as
those of functions' logs do (skylet.aws.logs.events)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence

from skylet import fastjson
from skylet.aws.logs.events import LogEvent
from skylet.errors import LogNotFound
from skylet.store import AT_TIMESTAMP, LogStore

PREFIX = "skylet.log-group/"
_CHUNK = 500


def log_name(group: str) -> str:
    """The store log of ``group`` (a long name by its digest: store names hold 256)."""
    if len(group) <= 200:
        return f"{PREFIX}{group}"
    return f"{PREFIX}#{hashlib.sha256(group.encode()).hexdigest()}"


class WrittenLogs:
    """PutLogEvents' events of every log group, in the store."""

    def __init__(self, store: LogStore) -> None:
        self._store = store
        self._created: set[str] = set()

    async def put(self, group: str, stream: str, events: Sequence[tuple[int, str]]) -> None:
        """Append one call's ``(timestamp_ms, message)`` events, in one record."""
        name = log_name(group)
        if name not in self._created:
            await self._store.create_log(name)
            self._created.add(name)
        await self._store.append(name, [fastjson.dumps([stream, list(events)])], partition=0)

    async def events(self, group: str, since_ms: int | None = None) -> list[LogEvent]:
        """The group's events, from ``since_ms`` on (a record is read whole: its events may be
        older than it by up to the 14 days PutLogEvents accepts)."""
        name = log_name(group)
        since_s = 0.0 if since_ms is None else max(since_ms / 1000 - 14 * 86_400.0, 0.0)
        try:
            after = await self._store.seek(name, 0, AT_TIMESTAMP(since_s))
        except LogNotFound:
            return []
        found: list[LogEvent] = []
        while True:
            records = await self._store.read(name, 0, after_sequence=after, limit=_CHUNK)
            for record in records:
                stream, events = fastjson.loads(record.data)
                ingested = int(record.timestamp * 1000)
                for place, (stamp, message) in enumerate(events):
                    if since_ms is not None and stamp < since_ms:
                        continue
                    event_id = f"{stamp:020d}{record.sequence % 10**18:018d}{place:018d}"
                    found.append(LogEvent(event_id, stream, stamp, ingested, message))
            if len(records) < _CHUNK:
                break
            after = records[-1].sequence
        found.sort(key=lambda e: e.event_id)
        return found

    async def expire(self, group: str, older_than_s: float) -> None:
        """Drop the calls written before ``older_than_s`` (epoch seconds): retention."""
        with contextlib.suppress(LogNotFound):
            await self._store.trim(log_name(group), older_than_s)

    async def delete(self, group: str) -> None:
        name = log_name(group)
        self._created.discard(name)
        await self._store.delete_log(name)
