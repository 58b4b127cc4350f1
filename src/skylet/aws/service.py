"""A cloud service is a class of operations over plain values; the codecs do the wire.

    class Queues(Service):
        service_name = "sqs"                      # botocore's name for the model

        async def send_message(self, request: Params, context: RequestContext) -> Params:
            ...                                   # request["QueueUrl"], request["MessageBody"]
            return {"MessageId": ..., "MD5OfMessageBody": ...}

Each operation of the model is the method of its name in snake case (boto3's own method
names: ``SendMessage`` → ``send_message``), sync or async. It raises ``ServiceError`` with
the error shape's name; the model gives status and fault. :func:`handle` is the one call a
gateway makes: it picks the protocol the request speaks, the operation, parses, calls,
serializes, and answers every refusal in that protocol's error format, never a 500 for what
the client sent. :func:`unserved` answers for a service skylet does not serve, and
:func:`refusal` for a request refused before its operation is chosen (a bad signature), both
in the protocol the request speaks. The router (``aws/router.py``) verifies the signature and
calls these; ``RequestContext.access_key`` says who signed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore import xform_name
from botocore.model import ServiceModel

from skylet import arns
from skylet.aws.protocols import CODECS, faults
from skylet.aws.protocols.models import PROTOCOLS, Overlay, ServiceModels, combined
from skylet.aws.protocols.query import action, is_form
from skylet.aws.protocols.types import Codec, Fault, Params, Refusal, Refused, Request, Response
from skylet.errors import ServiceError
from skylet.observe.trace_context import CURRENT

log = logging.getLogger(__name__)


def _caller_trace() -> str | None:
    caller = CURRENT.get()
    return caller.traceparent if caller is not None else None


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What an operation may need besides its input: where and for whom it runs."""

    service: str
    operation: str
    protocol: str
    request_id: str
    region: str
    account_id: str
    #: The Host the client used (an SQS queue URL is built on it).
    host: str
    #: The access key that signed the request ("" for an unsigned one, allowed on loopback).
    access_key: str = ""
    #: The function whose own credentials signed it (skylet.function_keys), else "".
    function: str = ""
    #: The caller's trace (``traceparent``, docs/tracing.md), read when the request arrived:
    #: for what outlives the request's task (a stream record written in the store's).
    trace: str | None = field(default_factory=_caller_trace)


Operation = Callable[[Params, RequestContext], "Params | Awaitable[Params | None] | None"]


class Service:
    """The base of every service: declare ``service_name``, write operations as methods."""

    #: botocore's name of the service's model (``sqs``, ``dynamodb``, ``s3``, ``cloudwatch``).
    service_name: ClassVar[str]
    #: Protocols answered besides the model's (SQS still answers older SDKs' ``query``).
    extra_protocols: ClassVar[tuple[str, ...]] = ()
    #: Traits merged into the model before use (``models.Overlay``): what a model dropped.
    overlay: ClassVar[Overlay | None] = None
    #: Traits for one protocol only, merged over ``overlay`` for the requests in it: SQS's
    #: query names (``MessageAttribute.1.Name``), which its json requests must not be read by.
    protocol_overlays: ClassVar[Mapping[str, Overlay]] = {}
    #: ``overlay`` with each protocol's over it, made once per class (one object each, so the
    #: models' cache finds it by identity).
    overlays_by_protocol: ClassVar[Mapping[str, Overlay]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.overlays_by_protocol = {
            protocol: combined(cls.overlay, extra)
            for protocol, extra in cls.protocol_overlays.items()
        }

    #: A different AWS code (and status) for a refusal, per protocol, where the service's own
    #: differs from the protocol's usual one: ``{"query": {"missing": ("ValidationError", 400)}}``.
    refusal_codes: ClassVar[Mapping[str, Mapping[Refusal, tuple[str, int]]]] = {}
    #: The largest request body the router reads for the service (DynamoDB's 16 MB).
    max_request_bytes: ClassVar[int] = 16 << 20

    #: Query-protocol actions anyone may call unsigned, even where credentials are required
    #: (SNS's ConfirmSubscription and Unsubscribe: the links in its messages carry a token).
    anonymous_actions: ClassVar[frozenset[str]] = frozenset()

    def document(self, path: str) -> tuple[str, bytes] | None:
        """A document the service publishes at ``path`` for anyone to GET (SNS's signing
        certificate), as its content type and bytes; None for any other path."""
        return None

    def operation(self, name: str) -> Operation | None:
        """The method serving the model's operation ``name``, or None."""
        method = getattr(self, xform_name(name), None)
        return method if callable(method) else None


def detect(protocols: Iterable[str], request: Request) -> str:
    """The protocol a request speaks, among those the service does: the CBOR header, then
    ``X-Amz-Target``, then a form (or ``Action`` in the query string), then the service's
    rest protocol; failing all, the service's first."""
    spoken = list(protocols)
    if "smithy-rpc-v2-cbor" in spoken and request.header("smithy-protocol") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    if "json" in spoken and request.header("x-amz-target") is not None:
        return "json"
    if "query" in spoken and (is_form(request) or "Action=" in request.query):
        return "query"
    for name in spoken:
        if name.startswith("rest-"):
            return name
    return spoken[0] if spoken else "json"


async def handle(
    service: Service,
    method: str,
    path: str,
    query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    models: ServiceModels,
    request_id: str,
    region: str = arns.DEFAULT_REGION,
    account_id: str = arns.ACCOUNT_ID,
    access_key: str = "",
    function: str = "",
) -> Response:
    """Serve one request: ``path`` raw (percent-encoded), ``query`` the raw query string;
    ``access_key`` the one that signed it, verified already (``function``: a function's own,
    whose name this is)."""
    request = Request(method, path, query, tuple(headers), body)
    loaded = models.load(
        service.service_name, overlay=service.overlay, extra_protocols=service.extra_protocols
    )
    if loaded is None:
        return unserved(service.service_name, request, models=models, request_id=request_id)
    protocol = detect(loaded.protocols, request)
    overlay = service.overlays_by_protocol.get(protocol)
    if overlay is not None:
        loaded = (
            models.load(
                service.service_name, overlay=overlay, extra_protocols=service.extra_protocols
            )
            or loaded
        )
    codec = CODECS[protocol]
    model = loaded.model
    codes = {**codec.codes, **service.refusal_codes.get(protocol, {})}
    try:
        name = codec.select(loaded, request)
        implementation = service.operation(name)
        if implementation is None:
            raise Refused("not_implemented", f"skylet does not implement {name} of {_title(model)}")
        operation = model.operation_model(name)
        params = codec.parse(operation, request)
        context = RequestContext(
            service.service_name,
            name,
            protocol,
            request_id,
            region,
            account_id,
            request.header("host") or "",
            access_key,
            function,
        )
        result = implementation(params, context)
        if inspect.isawaitable(result):
            result = await result
        return codec.serialize(operation, result or {}, request_id)
    except Refused as refusal:
        fault = faults.refused(codes, refusal, missing_message=codec.missing_message)
    except ServiceError as error:
        fault = faults.resolve(model, error)
    except Exception:
        # The service's own failure, or a result its model cannot carry: the protocol's 500.
        log.exception("%s request %s failed", service.service_name, request_id)
        fault = faults.internal(request_id)
    return _error(codec, model, fault, request_id)


def protocol_of(service: Service, request: Request, *, models: ServiceModels) -> str:
    """The protocol a request to ``service`` speaks (the model's, else ``json``)."""
    loaded = models.load(
        service.service_name, overlay=service.overlay, extra_protocols=service.extra_protocols
    )
    return detect(loaded.protocols if loaded is not None else ("json",), request)


def refusal(
    service: Service, protocol: str, fault: Fault, *, models: ServiceModels, request_id: str
) -> Response:
    """``fault`` written in ``protocol`` (:func:`protocol_of`) for a request to ``service``
    that never reached an operation: its signature was refused, its body too large."""
    loaded = models.load(
        service.service_name, overlay=service.overlay, extra_protocols=service.extra_protocols
    )
    model = loaded.model if loaded is not None else _bare(service.service_name)
    return _error(CODECS[protocol], model, fault, request_id)


def unserved(name: str, request: Request, *, models: ServiceModels, request_id: str) -> Response:
    """The answer for a service skylet does not serve, ``name`` taken from the SigV4 scope's
    service (or ``X-Amz-Target``'s prefix): an error in the service's own protocol when
    botocore knows it, else in the one the request's form shows, that names the service."""
    loaded = models.load(name)
    if loaded is not None:
        model, protocols = loaded.model, loaded.protocols
    else:
        model = _bare(name)
        xml = "xml" in (request.header("content-type") or "") or request.method.upper() in (
            "GET",
            "HEAD",
        )
        protocols = tuple(p for p in PROTOCOLS if p != ("rest-json" if xml else "rest-xml"))
    protocol = detect(protocols, request)
    if loaded is None and protocol.startswith("rest-") and action(request):
        protocol = "query"
    fault = Fault("NotImplemented", f"skylet does not serve the service {name!r}", 501, False)
    return _error(CODECS[protocol], model, fault, request_id)


def _error(codec: Codec, model: ServiceModel, fault: Fault, request_id: str) -> Response:
    try:
        return codec.error(model, fault, request_id)
    except Exception:  # fields the error shape cannot carry: the error without them
        log.exception("writing error %s failed", fault.code)
        bare = Fault(fault.code, fault.message, fault.status, fault.sender_fault, fault.query_code)
        return codec.error(model, bare, request_id)


def _bare(name: str) -> ServiceModel:
    """A model with no operations, for a service botocore does not know."""
    return ServiceModel({"metadata": {}, "operations": {}, "shapes": {}}, service_name=name)


def _title(model: ServiceModel) -> str:
    metadata: Mapping[str, Any] = model.metadata
    return str(metadata.get("serviceId") or metadata.get("serviceFullName") or model.service_name)
