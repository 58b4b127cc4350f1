"""Function routes: an HTTP request → the function that serves it → the HTTP response.

Lambda-style functions get API Gateway's proxy event (REST API 1.0 or HTTP API 2.0) and their
result is mapped back as API Gateway maps it; Cloud Functions and Knative style functions
(``style: http`` or ``cloudevent``) get the request itself. Both are made in the instance from
the request's values (skylet.worker.http_trigger); the instance answers with the framed
response. The body is read whole before an instance is taken, so a slow or vanishing client
never holds one. API Gateway waits for its integration at most 29 s (REST) or 30 s (HTTP API),
then answers its timeout error while the function runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Sequence
from typing import NamedTuple
from urllib.parse import quote

from skylet.asgi import BodyTooLarge, Receive, Scope, Send, header, read_body
from skylet.errors import (
    ApiError,
    IntegrationFailed,
    IntegrationTimeout,
    RequestTooLarge,
    RouteNotFound,
)
from skylet.gateway import apigw, cors
from skylet.gateway.routing import ANY, DEFAULT_ROUTE, Kind, Route, RouteMatch, RouteTable
from skylet.invoker.hooks import Hooks, RequestLine
from skylet.invoker.invoker import Invoker, Pending
from skylet.invoker.results import InvocationResult
from skylet.manifest import Manifest
from skylet.manifest.http_events import HttpApiEvent, HttpEvent
from skylet.observe.trace_context import TraceContext, from_headers
from skylet.wire import http as wire
from skylet.wire.http import HttpResponse, RequestIds
from skylet.wire.invocation import Deliver, RawOutcome, resolving

#: API Gateway's payload limit for Lambda integrations, and Lambda's own for a sync request.
MAX_BODY_BYTES = 6 * 1024 * 1024
#: How long API Gateway waits for a Lambda integration: a REST API's default integration timeout
#: and an HTTP API's maximum. A function route (Cloud Run) waits as long as the function may run.
INTEGRATION_TIMEOUT_S: dict[Kind, float] = {"rest": 29.0, "http_api": 30.0}
#: The API's part of a trigger: account, region, API id, stage, binary media types.
_ApiPart = tuple[str, str, str, str, Sequence[str] | None]


class Found(NamedTuple):
    """A request a function route takes: the match, the path its function sees, and when
    deciding began (``time.perf_counter()``)."""

    match: RouteMatch
    raw_path: str
    started: float


class Call:
    """One request's invocation from a route, between :meth:`FunctionRoutes.start` and
    :meth:`FunctionRoutes.settle`."""

    __slots__ = ("found", "ids", "limit_s", "pending", "reply", "scope")

    def __init__(self, scope: Scope, found: Found, ids: RequestIds) -> None:
        self.scope = scope
        self.found = found
        self.ids = ids
        self.pending: Pending | None = None
        #: Set when no invocation runs (throttled, unavailable): the answer to send.
        self.reply: HttpResponse | None = None
        #: How long API Gateway waits, when the function may run longer (INTEGRATION_TIMEOUT_S).
        self.limit_s: float | None = None


def api_id(service: str) -> str:
    """A stable 10-character API id for a service, like API Gateway's ``abcde12345``."""
    return hashlib.sha256(service.encode()).hexdigest()[:10]


def routes_from_manifest(manifest: Manifest) -> list[Route]:
    """Every HTTP route of the manifest. A Cloud Functions or Knative style function without
    routes of its own answers at ``/<name>`` and below, as a Cloud Function does at its URL."""
    routes: list[Route] = []
    for spec in manifest.functions.values():
        direct = spec.style != "lambda"
        own = False
        for event in spec.events:
            if isinstance(event, HttpEvent):
                own = True
                kind: Kind = "function" if direct else "rest"
                routes.append(Route(event.method, event.path, spec.name, kind, event.cors))
            elif isinstance(event, HttpApiEvent):
                own = True
                method = ANY if event.method == "*" else event.method
                path = DEFAULT_ROUTE if event.path == "*" else event.path
                kind = "function" if direct else "http_api"
                routes.append(Route(method, path, spec.name, kind))
        if direct and not own:
            prefix = f"/{spec.name}"
            routes.append(Route(ANY, prefix, spec.name, "function", strip_prefix=prefix))
            routes.append(
                Route(ANY, f"{prefix}/{{proxy+}}", spec.name, "function", strip_prefix=prefix)
            )
    return routes


def standalone_routes(manifest: Manifest, name: str) -> list[Route]:
    """Routes for one function served alone (``skylet serve-function``), as a Knative service or
    a Cloud Function's own URL: a Lambda-style function keeps its HTTP routes, or takes every
    request as an HTTP API ``$default`` route; other styles take every path."""
    spec = manifest.find_function(name)
    if spec is None:
        return []
    if spec.style != "lambda":
        return [Route(ANY, path, spec.name, "function") for path in ("/", "/{proxy+}")]
    own = [r for r in routes_from_manifest(manifest) if r.function == spec.name]
    return own or [Route(ANY, DEFAULT_ROUTE, spec.name, "http_api")]


class FunctionRoutes:
    """Serves requests that match a route; :meth:`handle` returns False for the others."""

    def __init__(self, invoker: Invoker, hooks: Hooks | None = None) -> None:
        self.invoker = invoker
        #: Each answered request goes to ``hooks.http_request`` (console lines, metrics).
        self.hooks = hooks if hooks is not None else Hooks()
        self.integration_timeout_s = dict(INTEGRATION_TIMEOUT_S)
        self.table = RouteTable()
        self.update(self.table, service="skylet", stage="dev")

    def update(
        self,
        table: RouteTable,
        *,
        service: str,
        stage: str,
        binary_media_types: Sequence[str] | None = None,
        region: str | None = None,
    ) -> None:
        """Serve ``table`` from now on (a reload swaps it whole). ``service`` names the API
        (its id), ``stage`` is a REST API's stage; an HTTP API serves ``$default``.
        ``binary_media_types``: the REST API's, None for skylet's defaults (docs/http.md).
        ``region``: the API's (the manifest's), None for the platform's."""
        self.table = table
        #: A REST API's URL on AWS starts with its stage (``/dev/users/1``): served too.
        self._stage_prefix = f"/{stage}/"
        settings = self.invoker.settings
        api = (settings.account_id, region or settings.region, api_id(service))
        #: The API's part of a request's trigger (skylet.wire.http.Trigger), per route kind:
        #: account, region, API id, stage and (a REST API's) binary media types.
        self._api_trigger: dict[Kind, _ApiPart] = {
            "rest": (*api, stage, binary_media_types),
            "http_api": (*api, "$default", None),
            "function": (*api, "$default", None),
        }

    def preflight(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None] | None:
        """The coroutine that serves an OPTIONS request: a CORS preflight for a route (answered
        here, nothing runs), or a route that takes OPTIONS itself; None otherwise."""
        started = time.perf_counter()
        origin = header(scope, b"origin")
        raw_path = _raw_path(scope)
        routes = self.table.methods_for(raw_path)
        if not routes and (unstaged := self._unstaged(raw_path)) is not None:
            routes = [r for r in self.table.methods_for(unstaged) if r.kind == "rest"]
        headers = cors.preflight(routes, origin)
        if headers is not None:  # CORS routes are REST API routes: its request ids
            headers.extend(apigw.new_ids(rest=True).headers())
            return self._answer(scope, send, wire.response(200, headers, b""), started)
        found = self.find(scope)
        return None if found is None else self.serve(scope, receive, send, found)

    def find(self, scope: Scope) -> Found | None:
        """The route that takes this request (not a CORS preflight's: see :meth:`route`), with
        the path its function sees; None when no route does. Pure, apart from the clock."""
        started = time.perf_counter()
        raw_path = _raw_path(scope)
        match = self.table.match(scope["method"], raw_path)
        if match is None:
            unstaged = self._unstaged(raw_path)
            if unstaged is None:
                return None
            match = self.table.match(scope["method"], unstaged)
            if match is None or match.route.kind != "rest":
                return None
            raw_path = unstaged  # what the function sees as ``path``, as on AWS
        return Found(match, raw_path, started)

    def _unstaged(self, raw_path: str) -> str | None:
        """``raw_path`` without a leading ``/<stage>``, when it has one: a REST API's route
        answers there as well, as at its AWS URL."""
        prefix = self._stage_prefix
        return raw_path[len(prefix) - 1 :] if raw_path.startswith(prefix) else None

    async def _answer(
        self, scope: Scope, send: Send, response: HttpResponse, started: float
    ) -> None:
        await _send(send, response)
        self._line(scope, response.status, started, "(cors)", None)

    async def serve(self, scope: Scope, receive: Receive, send: Send, found: Found) -> None:
        """Serve a request through ASGI: read its body, run the function, send the reply."""
        try:
            body = await read_body(scope, receive, MAX_BODY_BYTES)
        except BodyTooLarge:
            reply = self.too_large(scope, found)
        except ConnectionResetError:
            return  # the client left before sending its body: nothing to run
        else:
            outcome: asyncio.Future[RawOutcome] = asyncio.get_running_loop().create_future()
            call = self.start(scope, found, body, resolving(outcome))
            if call.reply is not None:
                reply = call.reply
            elif call.limit_s is None:
                reply = self.settle(call, await outcome)
            else:
                waited = await self._within(call, outcome, call.limit_s)
                reply = self.timed_out(call) if waited is None else self.settle(call, waited)
        await _send(send, reply)

    def start(self, scope: Scope, found: Found, body: bytes, then: Deliver) -> Call:
        """Begin a request's invocation; its :class:`Call` holds what is pending, or the
        answer already given (throttled, unavailable), when ``then`` is never called. Does
        not wait: the invocation's outcome goes to ``then`` (skylet.invoker.Invoker.start),
        whose caller gives it to :meth:`settle`."""
        route = found.match.route
        kind = route.kind
        ids = _request_ids(kind)
        client = scope.get("client")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        request = wire.Request(
            scope["method"],
            found.raw_path,
            scope["path"],
            scope["query_string"].decode("latin-1"),
            headers,
            client[0] if client else None,
            scope.get("server"),
            time.time(),
            scope.get("http_version", "1.1"),
            scope.get("scheme", "http"),
        )
        trigger = wire.Trigger(
            kind,
            route.route_key,
            route.path,
            found.match.raw_path_parameters,
            route.strip_prefix,
            *self._api_trigger[kind],
            ids.request_id,
            ids.extended_id,
        )
        http = wire.encode(request, trigger)
        call = Call(scope, found, ids)
        try:
            pending = self.invoker.start(
                route.function, body, then, http=http, trace=_caller(headers), trigger="http"
            )
        except ApiError as error:  # throttled, unavailable, …: API Gateway's answer
            call.reply = self._reply(call, apigw.answer(error, ids), None)
        else:
            call.pending = pending
            limit = self.integration_timeout_s.get(kind)
            if limit is not None and pending.fn.timeout_s > limit:
                call.limit_s = limit
        return call

    def settle(self, call: Call, outcome: RawOutcome) -> HttpResponse:
        """The reply to a call once its invocation's outcome is known (recorded here)."""
        assert call.pending is not None
        route = call.found.match.route
        try:
            result = self.invoker.finish(call.pending, outcome)
        except ApiError:  # a payload the instance could not read
            return self._reply(call, apigw.answer(_FAILED, call.ids), None)
        response = outcome.response
        if response is not None and route.cors is None and result.function_error is None:
            # Most requests: the instance framed the response, headers and all.
            self._line(call.scope, response.status, call.found.started, route.function, result.cold)
            return response
        response = _response(route.kind, result, outcome, call.ids)
        return self._reply(call, response, result.cold)

    def timed_out(self, call: Call) -> HttpResponse:
        """API Gateway's answer once it stops waiting (``call.limit_s``); the invocation runs on
        and is recorded when it ends."""
        return self._reply(call, apigw.answer(_TIMED_OUT, call.ids), None)

    def too_large(self, scope: Scope, found: Found) -> HttpResponse:
        """The answer to a body over MAX_BODY_BYTES: nothing runs."""
        ids = _request_ids(found.match.route.kind)
        return self._reply(Call(scope, found, ids), apigw.answer(_TOO_LARGE, ids), None)

    def _reply(self, call: Call, response: HttpResponse, cold: bool | None) -> HttpResponse:
        route = call.found.match.route
        if route.cors is not None:
            origin = header(call.scope, b"origin")
            present = wire.header_pairs(response.block)
            added = cors.response_headers(route.cors, origin, present)
            lines = "".join(f"{name}: {value}\r\n" for name, value in added)
            response = response._replace(block=response.block + lines)
        self._line(call.scope, response.status, call.found.started, route.function, cold)
        return response

    async def _within(
        self, call: Call, outcome: asyncio.Future[RawOutcome], limit_s: float
    ) -> RawOutcome | None:
        """The invocation's outcome, or None once API Gateway would have stopped waiting. The
        invocation runs on, as on AWS; its log and hooks see it when it ends."""
        pending = call.pending
        assert pending is not None
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), limit_s)
        except TimeoutError:
            outcome.add_done_callback(lambda done: self.finish_late(pending, done.result()))
            return None

    def finish_late(self, pending: Pending, outcome: RawOutcome) -> None:
        """Record an invocation nobody waits for any more (API Gateway answered its timeout)."""
        with contextlib.suppress(ApiError):  # a bad payload: nothing ran to record
            self.invoker.finish(pending, outcome)

    async def not_found(self, scope: Scope, send: Send) -> None:
        """No route: API Gateway's answer (HTTP API style unless every route is REST), and a
        request line without a function, so the console shows what nothing took."""
        started = time.perf_counter()
        rest = bool(self.table) and all(r.kind == "rest" for r in self.table.routes)
        response = apigw.answer(_NO_ROUTE, apigw.new_ids(rest=rest))
        await _send(send, response)
        self._line(scope, response.status, started, "", None)

    def _line(
        self, scope: Scope, status: int, started: float, function: str, cold: bool | None
    ) -> None:
        query = scope["query_string"]
        path = f"{scope['path']}?{query.decode('latin-1')}" if query else scope["path"]
        duration = (time.perf_counter() - started) * 1000
        self.hooks.http_request(
            RequestLine(scope["method"], path, status, duration, function, cold)
        )


#: The refusals a route answers itself (API Gateway's answers: skylet.gateway.apigw.answer).
_FAILED = IntegrationFailed("the function failed, or its result cannot be sent")
_TIMED_OUT = IntegrationTimeout("the integration timed out")
_TOO_LARGE = RequestTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
_NO_ROUTE = RouteNotFound("no route takes the request")
#: A function route's requests have no API Gateway request ids.
_NO_API = RequestIds(False, "")


def _caller(headers: list[tuple[str, str]]) -> TraceContext | None:
    """The trace an HTTP request continues (its ``traceparent``, else ``X-Amzn-Trace-Id``)."""
    traceparent = xray = None
    for key, value in headers:
        if key == "traceparent":
            traceparent = value
        elif key == "x-amzn-trace-id":
            xray = value
    if traceparent is None and xray is None:
        return None
    return from_headers(traceparent, xray)


def _request_ids(kind: Kind) -> RequestIds:
    """API Gateway's own request ids for a request (a function route has no API around it);
    the Lambda request id is the invoker's, a UUID of its own, as in AWS."""
    return _NO_API if kind == "function" else apigw.new_ids(rest=kind == "rest")


def _response(
    kind: Kind, result: InvocationResult, outcome: RawOutcome, ids: RequestIds
) -> HttpResponse:
    """The HTTP response for an invocation from a route, as API Gateway (or, for a function
    route, functions-framework) answers: the function's response, with the API's request id
    headers, or the API's own error answer."""
    direct = kind == "function"
    if result.function_error is not None:
        if direct:
            return _function_crashed()
        if b'"Sandbox.Timedout"' in result.payload:
            return apigw.answer(_TIMED_OUT, ids)
        return apigw.answer(_FAILED, ids)
    if outcome.response is None:  # a result API Gateway cannot send (``outcome.malformed``)
        return _function_crashed() if direct else apigw.answer(_FAILED, ids)
    return outcome.response  # the instance framed it, request id headers included


def _function_crashed() -> HttpResponse:
    """A Cloud Functions style function raised (or answered what HTTP cannot carry): 500, as
    functions-framework answers."""
    return wire.response(
        500, [("content-type", "text/plain; charset=utf-8")], b"Internal Server Error"
    )


def _raw_path(scope: Scope) -> str:
    raw = scope.get("raw_path")
    return raw.decode("latin-1") if raw else quote(scope["path"])


async def _send(send: Send, response: HttpResponse) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in wire.header_pairs(response.block)
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
