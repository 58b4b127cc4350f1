"""skylet's own control API under ``/_skylet/``: functions, their logs (``skylet logs``) and
their asynchronous invocations (``skylet invocations``). Query parameters: admin_query.

A log follower (``logs?follow=1``) reads through a bounded buffer (skylet.observe.logs). One
that falls behind is dropped: its stream ends with a last line, ``{"dropped": true, "message":
…}``; if even that line cannot reach a client that does not read within ``LAST_LINE_S``, the
connection is closed.

With credentials configured every request must be signed with SigV4 for the service name
``skylet`` (in the region served), as the CLI signs them; errors are JSON, as the Lambda API's
(``x-amzn-ErrorType``). A function (its own credentials, or its own uid on the connection) may
read its own log and invocation records and nothing else: admin_access.

The dashboard (gateway/dashboard.py): its page's files under ``dashboard/`` are served to
anyone; its data (``dashboard/data/…``) is this API's and needs the same authentication. A
browser, which cannot sign, gets a session instead (gateway/dashboard_session.py): a signed
``POST dashboard/session`` answers a login link; ``GET dashboard/login?token=…`` sets the
session cookie, which then admits GET requests of this API (reads), nothing that changes."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.aws.auth import Authenticator
from skylet.aws.errors import json_error
from skylet.aws.router import Services
from skylet.aws.sigv4 import Verified
from skylet.config import FunctionConfig
from skylet.errors import (
    AccessDenied,
    ApiError,
    InvalidParameterValue,
    ResourceNotFound,
    ServiceUnavailable,
    StoreUnavailable,
)
from skylet.events.records import RecordBook, parse_status
from skylet.gateway import admin_access, dashboard_session, peers
from skylet.gateway.admin_query import Query
from skylet.gateway.dashboard import Dashboard
from skylet.invoker.invoker import Invoker
from skylet.observe.archive import LogArchive, events
from skylet.observe.filter_pattern import InvalidFilterPattern, Pattern, compile_pattern
from skylet.observe.logs import Entry, Follower
from skylet.observe.when import parse_moment

if TYPE_CHECKING:
    from skylet.cost.reports import CostDesk
    from skylet.schedules.scheduler import Scheduler

PREFIX = "/_skylet/"
#: The service name of the admin API in a SigV4 credential scope.
SIGNING_NAME = "skylet"
MAX_BODY_BYTES = 1 << 20
_JSON = [(b"content-type", b"application/json")]
#: How long a dropped follower's last line may wait for the client to read.
LAST_LINE_S = 5.0


def _entry(entry: Entry, pattern: Pattern | None = None) -> bytes:
    """An entry's NDJSON line; with a filter pattern only its matching events (lines), and
    nothing when none matches."""
    text = entry.text
    if pattern is not None:
        matching = [line for line in events(text) if pattern.matches(line)]
        if not matching:
            return b""
        text = "\n".join(matching) + "\n"
    line = {"timestamp": entry.timestamp, "requestId": entry.request_id, "text": text}
    stream = getattr(entry, "stream", "")
    if stream:
        line["logStream"] = stream
    return json.dumps(line).encode() + b"\n"


def _moment(name: str, now: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            return parse_moment(raw, now)
        except ValueError as exc:
            raise InvalidParameterValue(f"{name}={exc}") from None

    return parse


def _pattern(raw: str) -> Pattern:
    try:
        return compile_pattern(raw)
    except InvalidFilterPattern as exc:
        raise InvalidParameterValue(f"filter={raw!r} is not a filter pattern: {exc}") from None


class AdminApi:
    """``auth`` checks every request's signature (without it, none is: tests of the API)."""

    def __init__(
        self,
        invoker: Invoker,
        records: RecordBook | None = None,
        *,
        auth: Authenticator | None = None,
        scheduler: Scheduler | None = None,
        archive: LogArchive | None = None,
        services: Services | None = None,
        cost: CostDesk | None = None,
    ) -> None:
        self.invoker = invoker
        self.records = records
        self.auth = auth
        self.scheduler = scheduler
        #: Function logs in the store; without it, the log book's in memory.
        self.archive = archive
        self.dashboard = Dashboard(invoker, services, records)
        self.cost = cost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = scope["path"][len(PREFIX) :].strip("/").split("/")
        verified: Verified | None = None
        if parts[0] == "dashboard" and parts[1:2] not in (["data"], ["session"], ["login"]):
            if scope["method"] not in ("GET", "HEAD"):
                await respond(send, 405, b'{"message":"Method not allowed"}', _JSON)
            else:
                await self.dashboard.page("/".join(parts[1:]), send)
            return
        try:
            if parts[:2] == ["dashboard", "login"]:
                await self._login(scope, send)
                return
            if self.auth is not None and not self._in_session(scope):
                try:
                    admitted = await self.auth.admit(
                        scope, receive, SIGNING_NAME, limit=MAX_BODY_BYTES
                    )
                except BodyTooLarge:
                    raise InvalidParameterValue(
                        f"The request body is larger than {MAX_BODY_BYTES} bytes"
                    ) from None
                receive = admitted.receive
                verified = admitted.verified
            function = self._function_principal(scope, verified)
            if function is not None:
                refused = admin_access.refusal(
                    function, scope["method"], parts, account=self.invoker.settings.account_id
                )
                if refused is not None:
                    raise AccessDenied(refused)
            if parts[:2] == ["dashboard", "data"]:
                if scope["method"] != "GET":
                    raise InvalidParameterValue("the dashboard's data is read with GET")
                await self.dashboard.data(scope, send, parts[2:])
            elif parts == ["dashboard", "session"]:
                if scope["method"] != "POST":
                    raise InvalidParameterValue("a dashboard session is asked for with POST")
                await self._session(send)
            elif parts == ["functions"]:
                await self._functions(send)
            elif parts == ["schedules"]:
                await self._schedules(send)
            elif parts == ["cost"]:
                await self._cost(scope, send)
            elif parts == ["tune"]:
                if scope["method"] != "POST":
                    raise InvalidParameterValue("a tuning is run with POST")
                await self._tune(scope, receive, send)
            elif len(parts) == 3 and parts[::2] == ["schedules", "run"]:
                if scope["method"] != "POST":
                    raise InvalidParameterValue("a schedule is run with POST")
                await self._run_schedule(send, parts[1])
            elif len(parts) == 3 and parts[0] == "functions" and parts[2] == "logs":
                await self._logs(scope, receive, send, parts[1])
            elif len(parts) == 3 and parts[0] == "functions" and parts[2] == "invocations":
                await self._invocations(scope, send, parts[1])
            elif (
                parts[2:] == ["instances"]
                and parts[0] == "functions"
                and scope["method"] == "DELETE"
            ):
                retired = self.invoker.scale_to_zero(parts[1])
                await respond(send, 200, json.dumps({"retired": retired}).encode(), _JSON)
            else:
                await respond(send, 404, b'{"message":"Not found"}', _JSON)
        except ApiError as error:
            status, body, headers = json_error(error, "")
            await respond(send, status, body, headers)

    def _in_session(self, scope: Scope) -> bool:
        """Whether a read (GET) carries a valid dashboard session cookie."""
        if scope["method"] != "GET":
            return False
        token = dashboard_session.cookie_of(scope["headers"])
        secret = self.invoker.settings.function_secret
        return token is not None and dashboard_session.valid(secret, "session", token, time.time())

    async def _session(self, send: Send) -> None:
        """A login link's path and query for the signed caller (``skylet dashboard``)."""
        token = dashboard_session.issue(
            self.invoker.settings.function_secret,
            "login",
            time.time(),
            dashboard_session.LOGIN_TTL_S,
        )
        body = {"path": f"{PREFIX}dashboard/login?token={token}"}
        await respond(send, 200, json.dumps(body).encode(), _JSON)

    async def _login(self, scope: Scope, send: Send) -> None:
        """A login link opened: the session cookie set, and on to the page."""
        token = Query(scope).text("token")
        now = time.time()
        secret = self.invoker.settings.function_secret
        if token is None or not dashboard_session.valid(secret, "login", token, now):
            raise AccessDenied("The dashboard login link is not valid or has expired")
        session = dashboard_session.issue(secret, "session", now, dashboard_session.SESSION_TTL_S)
        headers = [
            (b"location", f"{PREFIX}dashboard/".encode()),
            (b"set-cookie", dashboard_session.set_cookie(session)),
            (b"cache-control", b"no-store"),
        ]
        await respond(send, 303, b"", headers)

    def _function_principal(self, scope: Scope, verified: Verified | None) -> str | None:
        """The function making the request: the one whose credentials signed it, else the one
        whose uid owns the connection (every function could sign with the local pair, or not
        at all, in local mode); None for the platform's own callers."""
        if verified is not None and verified.function is not None:
            return verified.function
        uid = peers.peer_uid(scope.get("client"), scope.get("server"))
        if uid is None or uid == os.geteuid():
            return None
        return self.invoker.function_of_uid(uid)

    def _the_scheduler(self) -> Scheduler:
        if self.scheduler is None:
            raise InvalidParameterValue("schedules need skylet's durable store")
        return self.scheduler

    async def _schedules(self, send: Send) -> None:
        """Each schedule: its rule, function, expression, kind, and next fire (ISO 8601 UTC)."""
        listed = [
            {
                "name": schedule.name,
                "function": schedule.function,
                "expression": str(schedule.expression),
                "kind": schedule.kind,
                "enabled": schedule.enabled,
                "next": due.astimezone(datetime.UTC).isoformat() if due is not None else None,
            }
            for schedule, due in self._the_scheduler().next_fires()
        ]
        await respond(send, 200, json.dumps(listed).encode(), _JSON)

    async def _run_schedule(self, send: Send, name: str) -> None:
        """Fire a schedule now (``skylet schedule run``): 202 once its invocation is queued."""
        try:
            schedule = await self._the_scheduler().run_now(name)
        except KeyError:
            raise ResourceNotFound(f"Schedule not found: {name}") from None
        body = {"name": schedule.name, "function": schedule.function, "kind": schedule.kind}
        await respond(send, 202, json.dumps(body).encode(), _JSON)

    def _the_cost(self) -> CostDesk:
        if self.cost is None:
            raise InvalidParameterValue("cost needs skylet's durable store")
        return self.cost

    async def _cost(self, scope: Scope, send: Send) -> None:
        """A period's usage and cost: ``?period=24h&function=NAME&profile=NAME&freeTier=1``."""
        from skylet.cost.pricing import profile_named
        from skylet.cost.reports import PERIODS
        from skylet.errors import ConfigError

        desk = self._the_cost()
        query = Query(scope)
        period = query.choice("period", lambda v: v) or "24h"
        if period not in PERIODS:
            raise InvalidParameterValue(f"period={period!r} is not one of {', '.join(PERIODS)}")
        function = query.choice("function", lambda v: v)
        if function is not None:
            function = self.invoker.function(function).name
        name = query.choice("profile", lambda v: v)
        try:
            profile = profile_named(name) if name is not None else None
        except ConfigError as error:
            raise InvalidParameterValue(f"profile: {error}") from None
        free = query.flag("freeTier") if query.choice("freeTier", lambda v: v) else None
        document = await desk.report(function, period, profile=profile, free_tier=free)
        await respond(send, 200, json.dumps(document).encode(), _JSON)

    async def _tune(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Power tuning: ``{"function", "memory": [MB…], "payload": JSON, "invocations": N}``;
        answers when every size ran (docs/cost.md)."""
        from skylet.cost.tuner import tune

        desk = self._the_cost()
        try:
            body = json.loads(await read_body(scope, receive, MAX_BODY_BYTES) or b"{}")
        except (ValueError, BodyTooLarge):
            raise InvalidParameterValue("the body is not a JSON object (at most 1 MB)") from None
        if not isinstance(body, dict):
            raise InvalidParameterValue("the body is not a JSON object")
        function, memory = body.get("function"), body.get("memory")
        invocations = body.get("invocations", 10)
        if not isinstance(function, str):
            raise InvalidParameterValue("function: a function name is required")
        if not isinstance(memory, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) for m in memory
        ):
            raise InvalidParameterValue("memory: a list of sizes in MB is required")
        if isinstance(invocations, bool) or not isinstance(invocations, int):
            raise InvalidParameterValue("invocations: an integer is required")
        payload = json.dumps(body.get("payload", {})).encode()
        document = await tune(self.invoker, function, memory, payload, invocations, desk.profile())
        await respond(send, 200, json.dumps(document).encode(), _JSON)

    async def _functions(self, send: Send) -> None:
        body = [self._function(fn) for fn in self.invoker.functions()]
        await respond(send, 200, json.dumps(body).encode(), _JSON)

    def _function(self, fn: FunctionConfig) -> dict[str, object]:
        """One function as the listing shows it; the state and update fields are Lambda's
        (GetFunctionConfiguration's), the reasons only when there are some."""
        state, update = self.invoker.status(fn.name)
        listed: dict[str, object] = {
            "name": fn.name,
            "handler": fn.handler,
            "memoryMb": fn.memory_mb,
            "timeoutS": fn.timeout_s,
            "instances": self.invoker.stats(fn.name).instances,
            "state": state.state,
            "lastUpdateStatus": update.status,
        }
        for key, value in (
            ("stateReason", state.reason),
            ("stateReasonCode", state.reason_code),
            ("lastUpdateStatusReason", update.reason),
            ("lastUpdateStatusReasonCode", update.reason_code),
        ):
            if value is not None:
                listed[key] = value
        return listed

    async def _invocations(self, scope: Scope, send: Send, name: str) -> None:
        """The newest asynchronous invocations of a function: ``?limit=50&status=failed``."""
        fn = self.invoker.function(name)
        query = Query(scope)
        limit = query.integer("limit", 50, low=1, high=1000)
        status = query.choice("status", parse_status)
        if self.records is None:
            raise InvalidParameterValue("invocation records need skylet's durable store")
        try:
            found = await self.records.query(fn.name, limit=limit, status=status)
        except StoreUnavailable as error:
            raise ServiceUnavailable(
                f"Invocation records are unavailable: skylet's durable store is down ({error})"
            ) from error
        body = json.dumps([record.to_json() for record in found]).encode()
        await respond(send, 200, body, _JSON)

    async def _entries(
        self, function: str, since: float, until: float | None, limit: int
    ) -> Sequence[Entry]:
        """The stored entries (they outlive restarts), or, without a store or while it is
        down, those this process keeps in memory."""
        archive = self.archive
        if archive is not None and archive.running:
            try:
                return await archive.read(function, since=since, until=until, limit=limit)
            except StoreUnavailable:
                pass
        kept = self.invoker.logs.entries(function, since=since, limit=limit)
        return [e for e in kept if until is None or e.timestamp < until]

    async def _logs(self, scope: Scope, receive: Receive, send: Send, name: str) -> None:
        """NDJSON of the function's log entries; ``follow=1`` keeps streaming new ones."""
        fn = self.invoker.function(name)
        query = Query(scope)
        now = time.time()
        since = query.choice("since", _moment("since", now)) or 0.0
        until = query.choice("until", _moment("until", now))
        pattern = query.choice("filter", _pattern)
        limit = query.integer("limit", 1000, low=1, high=100_000)
        follow = query.flag("follow")
        if not follow:
            entries = await self._entries(fn.name, since, until, limit)
            await respond(send, 200, b"".join(_entry(e, pattern) for e in entries), _JSON)
            return
        # Following from before the backlog is read: nothing added meanwhile is missed, and
        # what both have is sent once.
        with self.invoker.logs.follow(fn.name) as follower:
            entries = await self._entries(fn.name, since, until, limit)
            sent = {(e.timestamp, e.request_id) for e in entries}
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/x-ndjson")],
                }
            )
            backlog = b"".join(_entry(e, pattern) for e in entries)
            await send({"type": "http.response.body", "body": backlog, "more_body": True})
            if await _followed(follower, receive, send, pattern, sent):
                await _last_line(follower, fn.name, send)


async def _followed(
    follower: Follower,
    receive: Receive,
    send: Send,
    pattern: Pattern | None,
    sent: set[tuple[float, str]],
) -> bool:
    """Send the follower's entries until the client leaves (False) or it is dropped (True);
    those in ``sent`` (the backlog) are skipped."""

    async def pump() -> None:
        async for entry in follower:
            if sent and (entry.timestamp, entry.request_id) in sent:
                continue
            line = _entry(entry, pattern)
            if line:
                await send({"type": "http.response.body", "body": line, "more_body": True})

    async def left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    tasks = [asyncio.create_task(c) for c in (pump(), left(), follower.wait_dropped())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        gone = tasks[1].done()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return follower.dropped and not gone


async def _last_line(follower: Follower, name: str, send: Send) -> None:
    """End a dropped follower's stream with a line that says so; close the connection if the
    client does not take it within LAST_LINE_S."""
    line = {
        "timestamp": time.time(),
        "dropped": True,
        "message": f"skylet: this follower of {name}'s log fell more than "
        f"{follower.max_entries} entries or {follower.max_bytes} bytes behind and was dropped",
    }
    body = json.dumps(line).encode() + b"\n"
    try:
        async with asyncio.timeout(LAST_LINE_S):
            await send({"type": "http.response.body", "body": body, "more_body": False})
    except TimeoutError:
        raise ConnectionAbortedError("a log follower that does not read was dropped") from None
