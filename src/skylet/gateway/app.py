"""The ASGI application: which API takes a request (``Gateway.classify``), and its dispatch."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from skylet.asgi import Receive, Scope, Send, respond
from skylet.aws.auth import Authenticator
from skylet.aws.lambda_api import LambdaApi
from skylet.aws.lambda_control import LambdaControl
from skylet.aws.lambda_names import is_lambda_path
from skylet.aws.router import Services, form_request, named_service
from skylet.aws.s3_api import S3Api, is_sdk_request
from skylet.eventing.brokers import PREFIX as BROKER_PREFIX
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.records import RecordBook
from skylet.gateway.admin import PREFIX as ADMIN_PREFIX
from skylet.gateway.admin import AdminApi
from skylet.gateway.http_routes import Found, FunctionRoutes
from skylet.invoker.hooks import Hooks
from skylet.invoker.invoker import Invoker
from skylet.observe.archive import LogArchive
from skylet.observe.trace_context import CURRENT, TraceContext, from_headers
from skylet.programs.routes import STATUS_PATH as KNATIVE_STATUS

if TYPE_CHECKING:
    from skylet.cost.reports import CostDesk
    from skylet.eventing.brokers import Brokers
    from skylet.programs.proxy import KnativeServices
    from skylet.schedules.scheduler import Scheduler

#: The APIs :meth:`Gateway.classify` names, besides a function route.
Api = Literal[
    "lambda", "admin", "broker", "knative", "s3", "service", "health", "preflight", "unrouted"
]
#: The credential scope's service names with a door of their own here; any other goes to the
#: service registry. ``execute-api`` (API Gateway's IAM authorization) is a function route's.
_DOORS: dict[str, Api] = {"s3": "s3", "lambda": "lambda", "skylet": "admin"}


class Gateway:
    """Routes requests; lifespan events are answered so any ASGI server can host it."""

    def __init__(
        self,
        invoker: Invoker,
        async_invoker: AsyncInvoker | None = None,
        records: RecordBook | None = None,
        s3: S3Api | None = None,
        hooks: Hooks | None = None,
        lambda_control: LambdaControl | None = None,
        *,
        auth: Authenticator | None = None,
        services: Services | None = None,
        scheduler: Scheduler | None = None,
        metrics: Callable[[str], tuple[str, bytes]] | None = None,
        brokers: Brokers | None = None,
        archive: LogArchive | None = None,
        cost: CostDesk | None = None,
        knative: KnativeServices | None = None,
    ) -> None:
        self.invoker = invoker
        #: ``GET /metrics``: the Prometheus exposition for an ``Accept`` header (content type,
        #: body), unless a function route claims the path.
        self.metrics = metrics
        self.brokers = brokers
        #: Knative Services (docs/knative.md): by their Host header or path prefix.
        self.knative = knative
        self.lambda_api = LambdaApi(invoker, async_invoker, lambda_control, auth=auth)
        self.admin_api = AdminApi(
            invoker,
            records,
            auth=auth,
            scheduler=scheduler,
            archive=archive,
            services=services,
            cost=cost,
        )
        self.routes = FunctionRoutes(invoker, hooks)
        self.s3 = s3
        self.services = services
        #: A standalone service answers ``/health`` itself even when its function takes every
        #: path, as a Knative service's readiness probe expects.
        self.health_first = False

    async def _names_bucket(self, path: str) -> bool:
        """Whether an unsigned request's path starts with an existing bucket: the S3 API then
        answers it (public buckets are readable; others refuse it with AccessDenied)."""
        assert self.s3 is not None
        return await self.s3.has_bucket(path.lstrip("/").split("/", 1)[0])

    def classify(self, scope: Scope) -> Found | Api:
        """Which API takes an HTTP request: a function route (its :class:`Found`), or the name
        of the API that serves it. Decided once, without waiting, for both the direct path and
        the ASGI one, as AWS's endpoints decide (aws/router.py): the service a request's SigV4
        credential scope names (S3, Lambda, the admin API's ``skylet``, any other: the service
        registry), or that ``X-Amz-Target`` names; then by path: the Lambda API, the admin API,
        a standalone service's ``/health``, a CORS preflight (or an OPTIONS route), a function
        route, and what is left ("unrouted": a query-protocol form, a bucket's public path,
        ``/health``, a 404)."""
        named = named_service(scope)
        if named is not None:
            door = _DOORS.get(named)
            if door is not None:
                if door != "s3" or self.s3 is not None:
                    return door
            elif named != "execute-api" and self.services is not None:
                return "service"
        path: str = scope["path"]
        knative = self.knative
        if knative is not None and knative.revisions and knative.find(scope) is not None:
            return "knative"
        if is_lambda_path(path):
            return "lambda"
        if path.startswith(ADMIN_PREFIX):
            # Brokers' ingress (docs/eventing.md) takes CloudEvents, unsigned, as Knative's.
            if self.brokers is not None and path.startswith(BROKER_PREFIX):
                return "broker"
            if knative is not None and path == KNATIVE_STATUS:
                return "knative"
            return "admin"
        if path == "/health" and self.health_first:
            return "health"
        if scope["method"] == "OPTIONS":
            return "preflight"
        found = self.routes.find(scope)
        return "unrouted" if found is None else found

    def direct(self, scope: Scope) -> Found | None:
        """The function route that takes an HTTP request, when :meth:`classify` names one; the
        HTTP server can then serve it without an ASGI cycle (skylet.gateway.http1)."""
        taken = self.classify(scope)
        return taken if type(taken) is Found else None

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """ASGI 3. Which API or route serves a request is decided without waiting; the answer
        is the coroutine that serves it, which the server awaits: no extra frame per request."""
        if scope["type"] == "http":
            taken = self.classify(scope)
            if isinstance(taken, Found):
                return self.routes.serve(scope, receive, send, taken)
            trace = _caller_trace(scope)
            if trace is not None:  # what the request makes continues the caller's trace
                return _within(trace, self._api(taken, scope, receive, send))
            return self._api(taken, scope, receive, send)
        if scope["type"] == "lifespan":
            return _lifespan(receive, send)
        return _ignored()

    def _api(self, taken: Api, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The coroutine of the API :meth:`classify` named."""
        if taken == "lambda":
            return self.lambda_api(scope, receive, send)
        if taken == "admin":
            return self.admin_api(scope, receive, send)
        if taken == "broker":
            assert self.brokers is not None
            return self.brokers(scope, receive, send)
        if taken == "knative":
            assert self.knative is not None
            return self.knative(scope, receive, send)
        if taken == "s3":
            assert self.s3 is not None
            return self.s3(scope, receive, send)
        if taken == "service":
            assert self.services is not None
            return self.services(scope, receive, send)
        if taken == "health":
            return self._health(send)
        if taken == "preflight":
            serving = self.routes.preflight(scope, receive, send)
            if serving is not None:
                return serving
        return self._unrouted(scope, receive, send)

    async def _unrouted(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        services = self.services
        if scope["method"] == "GET" and services is not None:
            published = services.document(path)
            if published is not None:  # SNS's signing certificate
                content_type, document = published
                await respond(send, 200, document, [(b"content-type", content_type.encode())])
                return
        # An unsigned query-protocol call (STS's, SNS's) names its service only by its Action;
        # a form no service takes is answered below, its body read.
        if (
            services is not None
            and form_request(scope)
            and services.takes_forms()
            and await services.serve_form(scope, receive, send)
        ):
            return
        if self.s3 is not None and (is_sdk_request(scope) or await self._names_bucket(path)):
            # Unsigned, and no function route took it: S3 answers what names a bucket, and
            # what an AWS SDK sends anonymously (NoSuchBucket, AccessDenied as XML).
            await self.s3(scope, receive, send)
        elif path == "/health":  # unless a function route claims it
            await self._health(send)
        elif path == "/metrics" and self.metrics is not None and scope["method"] == "GET":
            accept = next((v for k, v in scope["headers"] if k == b"accept"), b"")
            content_type, body = self.metrics(accept.decode("latin-1"))
            await respond(send, 200, body, [(b"content-type", content_type.encode())])
        else:
            await self.routes.not_found(scope, send)

    async def _health(self, send: Send) -> None:
        """200 while instances can be started; 503 while the runtime restarts its zygote (a
        few hundred milliseconds: cold starts wait meanwhile) or cannot start one at all."""
        status, restarts = self.invoker.runtime()
        if status == "up":
            body: dict[str, object] = {"status": "ok"}
        elif status == "restarting":
            body = {"status": "restarting", "message": "the runtime's zygote died; restarting it"}
        else:
            body = {"status": "down", "message": "the runtime's zygote cannot be started"}
        body["runtimeRestarts"] = restarts
        body["sandbox"] = self.invoker.sandbox().document()
        code = 200 if status == "up" else 503
        await respond(
            send, code, json.dumps(body).encode(), [(b"content-type", b"application/json")]
        )


def _caller_trace(scope: Scope) -> TraceContext | None:
    """The trace context an API request carries (``traceparent``, else ``X-Amzn-Trace-Id``,
    which botocore sends from a function's ``_X_AMZN_TRACE_ID``), or None."""
    traceparent = xray = None
    for key, value in scope["headers"]:
        if key == b"traceparent":
            traceparent = value.decode("latin-1")
        elif key == b"x-amzn-trace-id":
            xray = value.decode("latin-1")
    if traceparent is None and xray is None:
        return None
    return from_headers(traceparent, xray)


async def _within(trace: TraceContext, serving: Awaitable[None]) -> None:
    """Serve a request with ``CURRENT`` set to its caller's trace (in the request's task)."""
    CURRENT.set(trace)
    await serving


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _ignored() -> None:
    """Other connection types (WebSocket) are not served."""
