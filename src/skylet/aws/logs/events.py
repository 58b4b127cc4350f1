"""Stored function logs as CloudWatch Logs' log events, streams and pages. Pure.

An archived entry (one invocation's log) is several events, one per line, all stamped with the
entry's time in milliseconds. Each event has a 56-digit ``eventId``: its timestamp (20
digits), a number derived from its request id and stream (18), and its line within the entry
(18). Ordered by ``eventId``, events are in time order, an invocation's lines together and in
order; FilterLogEvents pages by the last ``eventId`` returned, so new events and trimmed ones
never shift a page.

GetLogEvents' tokens are positions in a stream's events: ``f/N`` (forward: the next page starts
at N) and ``b/N`` (backward: the previous page ends before N). At the end of a stream the
forward token given is returned again, which is how clients (``aws logs get-log-events``,
boto3's paginator) know to stop.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from skylet.observe.archive import StoredEntry, events


@dataclass(frozen=True, slots=True)
class LogEvent:
    event_id: str
    stream: str
    timestamp_ms: int
    ingestion_ms: int
    message: str


def log_events(entries: Iterable[StoredEntry]) -> list[LogEvent]:
    """Every event of ``entries``, in ``eventId`` order."""
    found: list[LogEvent] = []
    for entry in entries:
        stamp = int(entry.timestamp * 1000)
        ingested = max(int(entry.ingested * 1000), stamp)
        digest = hashlib.blake2b(f"{entry.stream}\0{entry.request_id}".encode(), digest_size=7)
        middle = int.from_bytes(digest.digest()) % 10**18
        for line, message in enumerate(events(entry.text)):
            event_id = f"{stamp:020d}{middle:018d}{line:018d}"
            found.append(LogEvent(event_id, entry.stream, stamp, ingested, message))
    found.sort(key=lambda e: e.event_id)
    return found


@dataclass(frozen=True, slots=True)
class Stream:
    name: str
    first_ms: int
    last_ms: int
    last_ingestion_ms: int
    stored_bytes: int


def streams(log: Sequence[LogEvent]) -> list[Stream]:
    """The streams that hold ``log``'s events, by name."""
    by_name: dict[str, list[LogEvent]] = {}
    for event in log:
        by_name.setdefault(event.stream, []).append(event)
    return [
        Stream(
            name,
            min(e.timestamp_ms for e in chosen),
            max(e.timestamp_ms for e in chosen),
            max(e.ingestion_ms for e in chosen),
            sum(len(e.message.encode()) for e in chosen),
        )
        for name, chosen in sorted(by_name.items())
    ]


def within(event: LogEvent, start_ms: int | None, end_ms: int | None) -> bool:
    """``startTime`` is inclusive, ``endTime`` exclusive, as CloudWatch Logs has them."""
    if start_ms is not None and event.timestamp_ms < start_ms:
        return False
    return end_ms is None or event.timestamp_ms < end_ms


_TOKEN = re.compile(r"^([fb])/([0-9]{1,56})(?:/s)?$")


def forward_token(position: int) -> str:
    return f"f/{position:056d}/s"


def backward_token(position: int) -> str:
    return f"b/{position:056d}/s"


def read_token(token: str) -> tuple[str, int] | None:
    """``("f", N)`` or ``("b", N)``; None for what is not a token of ours."""
    found = _TOKEN.match(token)
    return None if found is None else (found.group(1), int(found.group(2)))


@dataclass(frozen=True, slots=True)
class Page:
    events: Sequence[LogEvent]
    forward: str
    backward: str


def page(
    stream: Sequence[LogEvent], *, limit: int, start_from_head: bool, token: tuple[str, int] | None
) -> Page:
    """GetLogEvents' page of ``stream``: without a token the first ``limit`` events
    (``startFromHead``) or the last; with one, the page after (``f/N``) or before (``b/N``)."""
    count = len(stream)
    if token is None:
        start = 0 if start_from_head else max(count - limit, 0)
        end = min(start + limit, count)
    elif token[0] == "f":
        start = min(token[1], count)
        end = min(start + limit, count)
    else:
        end = min(token[1], count)
        start = max(end - limit, 0)
    return Page(stream[start:end], forward_token(end), backward_token(start))
