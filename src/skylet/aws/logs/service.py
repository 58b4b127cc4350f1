"""Amazon CloudWatch Logs (``logs``, awsJson1_1) over the function logs skylet keeps, for what
SDKs and ``aws logs tail`` use: DescribeLogGroups, DescribeLogStreams, GetLogEvents,
FilterLogEvents, CreateLogGroup, DeleteLogGroup, PutRetentionPolicy, DeleteRetentionPolicy, and
for a client's own logs CreateLogStream, DeleteLogStream and PutLogEvents.

Each function's log group is ``/aws/lambda/NAME`` (or its configured ``logGroup``), with one
stream per instance, named as Lambda names them (``YYYY/MM/DD/[$LATEST]hex``); its events are
the lines of the function's archived log (skylet.observe.archive, skylet.aws.logs.events).
Groups and streams made with CreateLogGroup and CreateLogStream, and retention set on any
group, are kept in a store log (``skylet.log-groups``) and replayed at start; what PutLogEvents
writes is kept in a store log per group (skylet.aws.logs.written).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from skylet import fastjson
from skylet.aws.logs.events import (
    LogEvent,
    Stream,
    log_events,
    page,
    read_token,
    streams,
    within,
)
from skylet.aws.logs.written import WrittenLogs
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext, Service
from skylet.errors import ServiceError
from skylet.observe.archive import LogArchive
from skylet.observe.filter_pattern import InvalidFilterPattern, compile_pattern
from skylet.store import LogStore

CATALOG_LOG = "skylet.log-groups"
#: CloudWatch Logs' retention periods, in days (PutRetentionPolicy's allowed values).
RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557}
    | {2922, 3288, 3653}
)
#: At most this many events (and 1 MB) per GetLogEvents or FilterLogEvents page, as AWS.
MAX_EVENTS = 10_000
MAX_PAGE_BYTES = 1 << 20


@dataclass(slots=True)
class _Group:
    created_ms: int


def _not_found(what: str = "log group") -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"The specified {what} does not exist.")


def _invalid(message: str) -> ServiceError:
    return ServiceError("InvalidParameterException", message)


class CloudWatchLogs(Service):
    """The ``logs`` service. ``start`` replays the group catalog from the store."""

    service_name = "logs"

    def __init__(
        self, archive: LogArchive, store: LogStore, *, now: Callable[[], float] = time.time
    ) -> None:
        self._archive = archive
        self._store = store
        self._now = now
        #: Groups made with CreateLogGroup, and retention set on function groups.
        self._groups: dict[str, _Group] = {}
        #: Retention set through the API, by group (None: deleted): it overrides the manifest's.
        self._retention_set: dict[str, int | None] = {}
        #: The functions with a log, as last read from the archive.
        self._known: list[str] = []
        #: Streams made with CreateLogStream, by group: name -> creation time (ms).
        self._streams: dict[str, dict[str, int]] = {}
        #: What PutLogEvents wrote.
        self._written = WrittenLogs(store)

    async def start(self) -> None:
        await self._store.create_log(CATALOG_LOG)
        after = 0
        while True:
            records = await self._store.read(CATALOG_LOG, 0, after_sequence=after, limit=500)
            for record in records:
                self._apply(fastjson.loads(record.data))
            if len(records) < 500:
                break
            after = records[-1].sequence
        await self._refresh()

    def _apply(self, change: dict[str, Any]) -> None:
        name = change["group"]
        if change["op"] == "create":
            self._groups[name] = _Group(change["at"])
        elif change["op"] == "delete":
            self._groups.pop(name, None)
            self._retention_set.pop(name, None)
            self._streams.pop(name, None)
        elif change["op"] == "stream":
            self._streams.setdefault(name, {})[change["stream"]] = change["at"]
        elif change["op"] == "unstream":
            self._streams.get(name, {}).pop(change["stream"], None)
        elif change["op"] == "retention":
            self._retention_set[name] = change["days"]
            for function in self._functions_of(name):
                self._archive.set_retention(function, change["days"])

    async def _record(self, change: dict[str, Any]) -> None:
        await self._store.append(CATALOG_LOG, [fastjson.dumps(change)], partition=0)
        self._apply(change)

    # -- groups -------------------------------------------------------------------------------

    def _functions_of(self, group: str) -> list[str]:
        return [f for f in self._known if self._archive.group(f) == group]

    async def _refresh(self) -> None:
        """Read which functions have logs; give each the retention set on its group."""
        self._known = await self._archive.functions()
        for function in self._known:
            group = self._archive.group(function)
            if group in self._retention_set:
                self._archive.set_retention(function, self._retention_set[group])

    async def _group_names(self) -> list[str]:
        await self._refresh()
        names = {self._archive.group(f) for f in self._known} | set(self._groups)
        return sorted(names)

    def _group_name(self, request: Params) -> str:
        name = request.get("logGroupName") or request.get("logGroupIdentifier")
        if not name:
            raise _invalid("Either logGroupName or logGroupIdentifier must be given.")
        if name.startswith("arn:"):  # an identifier may be the group's ARN
            name = name.split(":log-group:", 1)[-1].removesuffix(":*")
        return str(name)

    async def _events(self, group: str, start_ms: int | None = None) -> list[LogEvent]:
        """The group's events, from ``start_ms`` on when given (the rest are not read)."""
        names = await self._group_names()
        if group not in names:
            raise _not_found()
        since = 0.0 if start_ms is None else start_ms / 1000
        entries = []
        for function in self._functions_of(group):
            entries.extend(await self._archive.read(function, since=since))
        found = log_events(entries)
        if self._streams.get(group):
            found.extend(await self._written.events(group, start_ms))
            found.sort(key=lambda e: e.event_id)
        return found

    def _arn(self, context: RequestContext, group: str) -> str:
        return f"arn:aws:logs:{context.region}:{context.account_id}:log-group:{group}"

    async def describe_log_groups(self, request: Params, context: RequestContext) -> Params:
        prefix = request.get("logGroupNamePrefix", "")
        pattern = request.get("logGroupNamePattern")
        if prefix and pattern:
            raise _invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive")
        chosen = [
            n
            for n in await self._group_names()
            if n.startswith(prefix) and (not pattern or pattern in n)
        ]
        identifiers = request.get("logGroupIdentifiers")
        if identifiers:
            wanted = {self._group_name({"logGroupIdentifier": i}) for i in identifiers}
            chosen = [n for n in chosen if n in wanted]
        start = _offset(request.get("nextToken"))
        limit = request.get("limit", 50)
        shown = chosen[start : start + limit]
        groups = []
        for name in shown:
            log = await self._events(name)
            kept = self._groups.get(name)
            created = kept.created_ms if kept else (log[0].timestamp_ms if log else 0)
            arn = self._arn(context, name)
            group: Params = {
                "logGroupName": name,
                "creationTime": created,
                "metricFilterCount": 0,
                "arn": f"{arn}:*",
                "logGroupArn": arn,
                "storedBytes": sum(len(e.message.encode()) for e in log),
                "logGroupClass": "STANDARD",
            }
            days = self._retention(name)
            if days is not None:
                group["retentionInDays"] = days
            groups.append(group)
        answer: Params = {"logGroups": groups}
        if start + limit < len(chosen):
            answer["nextToken"] = str(start + limit)
        return answer

    def _retention(self, group: str) -> int | None:
        if group in self._retention_set:
            return self._retention_set[group]
        for function in self._functions_of(group):
            days = self._archive.retention(function)
            if days is not None:
                return days
        return None

    async def create_log_group(self, request: Params, context: RequestContext) -> Params:
        name = request["logGroupName"]
        if name in await self._group_names():
            raise ServiceError(
                "ResourceAlreadyExistsException", "The specified log group already exists"
            )
        await self._record({"op": "create", "group": name, "at": int(self._now() * 1000)})
        return {}

    async def delete_log_group(self, request: Params, context: RequestContext) -> Params:
        name = request["logGroupName"]
        if name not in await self._group_names():
            raise _not_found()
        for function in self._functions_of(name):
            await self._archive.delete(function)
        await self._written.delete(name)
        await self._record({"op": "delete", "group": name, "at": int(self._now() * 1000)})
        return {}

    async def put_retention_policy(self, request: Params, context: RequestContext) -> Params:
        name, days = request["logGroupName"], request["retentionInDays"]
        if days not in RETENTION_DAYS:
            allowed = ", ".join(map(str, sorted(RETENTION_DAYS)))
            raise _invalid(
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{allowed}]"
            )
        if name not in await self._group_names():
            raise _not_found()
        await self._record(
            {"op": "retention", "group": name, "days": days, "at": int(self._now() * 1000)}
        )
        return {}

    async def delete_retention_policy(self, request: Params, context: RequestContext) -> Params:
        name = request["logGroupName"]
        if name not in await self._group_names():
            raise _not_found()
        await self._record(
            {"op": "retention", "group": name, "days": None, "at": int(self._now() * 1000)}
        )
        return {}

    # -- streams and events ---------------------------------------------------------------------

    async def create_log_stream(self, request: Params, context: RequestContext) -> Params:
        group, name = request["logGroupName"], request["logStreamName"]
        if group not in await self._group_names():
            raise _not_found()
        if ":" in name or "*" in name:
            raise _invalid(f"{name!r} is not a log stream name (allowed: no ':' or '*')")
        existing = {e.stream for e in await self._events(group)}
        if name in existing or name in self._streams.get(group, {}):
            raise ServiceError(
                "ResourceAlreadyExistsException", "The specified log stream already exists"
            )
        at = int(self._now() * 1000)
        await self._record({"op": "stream", "group": group, "stream": name, "at": at})
        return {}

    async def delete_log_stream(self, request: Params, context: RequestContext) -> Params:
        group, name = request["logGroupName"], request["logStreamName"]
        if group not in await self._group_names():
            raise _not_found()
        if name not in self._streams.get(group, {}):
            raise _not_found("log stream")
        at = int(self._now() * 1000)
        await self._record({"op": "unstream", "group": group, "stream": name, "at": at})
        return {}

    async def put_log_events(self, request: Params, context: RequestContext) -> Params:
        """A client's events into a stream it made, with CloudWatch's checks: chronological
        order, at most 10,000 events and 1 MiB (each message's UTF-8 plus 26 bytes); events
        more than 2 hours ahead, or older than 14 days or the retention, are rejected and said
        so (``rejectedLogEventsInfo``)."""
        group, name = request["logGroupName"], request["logStreamName"]
        if group not in await self._group_names():
            raise _not_found()
        if name not in self._streams.get(group, {}):
            raise _not_found("log stream")
        events = request["logEvents"]
        stamps = [e["timestamp"] for e in events]
        if stamps != sorted(stamps):
            raise _invalid(
                "Log events in a single PutLogEvents request must be in chronological order."
            )
        size = sum(len(e["message"].encode()) + 26 for e in events)
        if len(events) > MAX_EVENTS or size > MAX_PAGE_BYTES:
            raise _invalid(
                f"{len(events)} events of {size} bytes (allowed: at most {MAX_EVENTS} events "
                f"and {MAX_PAGE_BYTES} bytes, 26 bytes counted for each event)"
            )
        if stamps and stamps[-1] - stamps[0] > 86_400_000:
            raise _invalid(
                "The batch of log events in a single PutLogEvents request cannot "
                "span more than 24 hours."
            )
        now_ms = int(self._now() * 1000)
        days = self._retention(group)
        oldest = now_ms - min(14, days or 14) * 86_400_000
        rejected: Params = {}
        too_old = [i for i, stamp in enumerate(stamps) if stamp < oldest]
        too_new = [i for i, stamp in enumerate(stamps) if stamp > now_ms + 7_200_000]
        if too_old:
            rejected["tooOldLogEventEndIndex"] = too_old[-1] + 1
        if too_new:
            rejected["tooNewLogEventStartIndex"] = too_new[0]
        kept = [
            (e["timestamp"], e["message"])
            for i, e in enumerate(events)
            if not (too_old and i <= too_old[-1]) and not (too_new and i >= too_new[0])
        ]
        if kept:
            await self._written.put(group, name, kept)
            if days is not None:
                await self._written.expire(group, self._now() - days * 86_400.0)
        answer: Params = {"nextSequenceToken": f"{now_ms:056d}"}
        if rejected:
            answer["rejectedLogEventsInfo"] = rejected
        return answer

    async def describe_log_streams(self, request: Params, context: RequestContext) -> Params:
        group = self._group_name(request)
        order = request.get("orderBy", "LogStreamName")
        prefix = request.get("logStreamNamePrefix", "")
        if prefix and order == "LastEventTime":
            raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
        found = streams(await self._events(group))
        made = self._streams.get(group, {})
        found.extend(
            Stream(n, at, 0, 0, 0) for n, at in made.items() if n not in {s.name for s in found}
        )
        found = sorted((s for s in found if s.name.startswith(prefix)), key=lambda s: s.name)
        if order == "LastEventTime":
            found.sort(key=lambda s: s.last_ms)
        if request.get("descending"):
            found.reverse()
        start = _offset(request.get("nextToken"))
        limit = request.get("limit", 50)
        shown = found[start : start + limit]
        arn = self._arn(context, group)
        answer: Params = {
            "logStreams": [
                _stream_document(s, made.get(s.name), f"{arn}:log-stream:{s.name}") for s in shown
            ]
        }
        if start + limit < len(found):
            answer["nextToken"] = str(start + limit)
        return answer

    async def get_log_events(self, request: Params, context: RequestContext) -> Params:
        group = self._group_name(request)
        name = request["logStreamName"]
        log = await self._events(group)
        stream = [e for e in log if e.stream == name]
        if not stream and name not in self._streams.get(group, {}):
            raise _not_found("log stream")
        chosen = [e for e in stream if within(e, request.get("startTime"), request.get("endTime"))]
        token = None
        if "nextToken" in request:
            token = read_token(request["nextToken"])
            if token is None:
                raise _invalid("The specified nextToken is invalid.")
        limit = min(request.get("limit", MAX_EVENTS), MAX_EVENTS)
        found = page(
            chosen, limit=limit, start_from_head=bool(request.get("startFromHead")), token=token
        )
        return {
            "events": [
                {"timestamp": e.timestamp_ms, "message": e.message, "ingestionTime": e.ingestion_ms}
                for e in found.events
            ],
            "nextForwardToken": found.forward,
            "nextBackwardToken": found.backward,
        }

    async def filter_log_events(self, request: Params, context: RequestContext) -> Params:
        group = self._group_name(request)
        names = request.get("logStreamNames")
        prefix = request.get("logStreamNamePrefix")
        if names and prefix:
            raise _invalid("logStreamNames and logStreamNamePrefix are mutually exclusive")
        try:
            pattern = compile_pattern(request.get("filterPattern"))
        except InvalidFilterPattern as exc:
            raise _invalid(f"Invalid filter pattern: {exc}") from None
        log = await self._events(group, request.get("startTime"))
        wanted = set(names or ())
        chosen = [
            e
            for e in log
            if (not wanted or e.stream in wanted)
            and (not prefix or e.stream.startswith(prefix))
            and within(e, request.get("startTime"), request.get("endTime"))
        ]
        after = request.get("nextToken")
        if after is not None:
            if not after.isdigit() or len(after) != 56:
                raise _invalid("The specified nextToken is invalid.")
            chosen = [e for e in chosen if e.event_id > after]
        limit = min(request.get("limit", MAX_EVENTS), MAX_EVENTS)
        shown: list[LogEvent] = []
        size = 0
        rest = False
        for event in chosen:
            if not pattern.matches(event.message):
                continue
            if len(shown) >= limit or size + len(event.message) + 26 > MAX_PAGE_BYTES:
                rest = True
                break
            shown.append(event)
            size += len(event.message) + 26
        searched = sorted({e.stream for e in chosen} | wanted)
        answer: Params = {
            "events": [
                {
                    "logStreamName": e.stream,
                    "timestamp": e.timestamp_ms,
                    "message": e.message,
                    "ingestionTime": e.ingestion_ms,
                    "eventId": e.event_id,
                }
                for e in shown
            ],
            "searchedLogStreams": [
                {"logStreamName": s, "searchedCompletely": not rest} for s in searched
            ],
        }
        if rest and shown:
            answer["nextToken"] = shown[-1].event_id
        return answer


def _stream_document(stream: Stream, created_ms: int | None, arn: str) -> Params:
    """DescribeLogStreams' entry; a stream without events has no event times."""
    document: Params = {
        "logStreamName": stream.name,
        "creationTime": created_ms if created_ms is not None else stream.first_ms,
        "arn": arn,
        "storedBytes": 0,  # as AWS answers since 2019
    }
    if stream.last_ms:
        document["firstEventTimestamp"] = stream.first_ms
        document["lastEventTimestamp"] = stream.last_ms
        document["lastIngestionTime"] = stream.last_ingestion_ms
        document["uploadSequenceToken"] = "1"
    return document


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit() or len(token) > 9:
        raise _invalid("The specified nextToken is invalid.")
    return int(token)
