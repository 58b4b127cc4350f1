"""The service layer's router: which service a request is for, as AWS's endpoints decide it,
and the registry of the services served through ``service.handle``.

A request names its service, in this order (the first that speaks decides):

1. the SigV4 credential scope (``Authorization: AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/
   SERVICE/aws4_request``, or a presigned URL's ``X-Amz-Credential``): ``s3``, ``lambda``,
   ``sts``, ``sqs``…; S3's presigned v2 URLs are S3's;
2. ``X-Amz-Target``'s prefix (``AmazonSQS.SendMessage``), or a CBOR request's
   ``/service/{prefix}/operation/{op}`` path: the model's ``targetPrefix``;
3. the query protocol's ``Action`` in a form body (or a GET's query string), among the
   registered services that speak it;
4. the path: the Lambda API's (``/2015-03-31/…``), the admin API's (``/_skylet/``), S3's
   bucket paths, function routes.

:func:`named_service` reads 1 and 2 from the raw request without decoding it (it is on every
request's path); the gateway (``Gateway.classify``) keeps S3, Lambda and the admin API (scope
``skylet``) for their own doors and gives the rest to :class:`Services`, which picks the
registered service, verifies the signature (``Authenticator``: the body is hashed into it) and
serves it with :func:`skylet.aws.service.handle`. A service skylet does not serve answers
:func:`skylet.aws.service.unserved`, which names it; a refused signature is answered in the
protocol the request speaks. Adding a service is one line in the composition root::

    services.register(Queues(store))
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from skylet import arns
from skylet.asgi import BodyTooLarge, Receive, Scope, Send, read_body, respond
from skylet.aws import sigv4
from skylet.aws.auth import Authenticator, raw_path_of
from skylet.aws.errors import Family, signature_code
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.query import action
from skylet.aws.protocols.types import Fault, Refused, Request, Response
from skylet.aws.service import Service, handle, protocol_of, refusal, unserved
from skylet.errors import SignatureRefused
from skylet.ids import new_request_id

#: What :func:`named_service` answers for an unsigned request that names its service by
#: ``X-Amz-Target`` or the CBOR protocol's header: the registry reads which.
TARGETED = ""
#: How much of an unsigned form :meth:`Services.serve_form` reads to find its ``Action``.
MAX_FORM_BYTES = 1 << 20
#: The protocol families of the error codes (aws/errors.py): rest-xml (but S3) and query
#: write ``<ErrorResponse>``, the JSON protocols ``__type``.
FAMILIES: dict[str, Family] = {
    "json": "json",
    "rest-json": "json",
    "smithy-rpc-v2-cbor": "json",
    "query": "query",
    "rest-xml": "query",
}


_NAMING = frozenset({b"authorization", b"x-amz-target", b"smithy-protocol"})


def named_service(scope: Scope) -> str | None:
    """The service a request names before its path does: its SigV4 credential scope's
    (``"s3"`` for a presigned v2 URL), else :data:`TARGETED` when ``X-Amz-Target`` or
    ``smithy-protocol`` names it, else None. A look at raw bytes, one pass over the headers:
    it runs for every request, function routes included."""
    query: bytes = scope.get("query_string", b"")
    if query and (b"X-Amz-Credential=" in query or b"AWSAccessKeyId=" in query):
        return sigv4.scope_service([], query.decode("latin-1")) or TARGETED
    targeted = False
    for name, value in scope["headers"]:
        if name in _NAMING:  # one set lookup a header: most requests have none of these
            if name != b"authorization":
                targeted = True
            elif value.startswith(b"AWS4-HMAC-SHA256 "):
                return _scope_service(value)
    return TARGETED if targeted else None


def _scope_service(authorization: bytes) -> str:
    """``SERVICE`` of ``… Credential=AK/DATE/REGION/SERVICE/aws4_request, …``; "" when the
    credential is malformed (the verifier of whichever door takes it then says why)."""
    _, _, rest = authorization.partition(b"Credential=")
    parts = rest.split(b",", 1)[0].split(b"/")
    return parts[3].decode("latin-1") if len(parts) == 5 else TARGETED


@dataclass(frozen=True, slots=True)
class Entry:
    """A registered service and the names requests call it by."""

    service: Service
    #: The SigV4 scope's service name (the model's ``signingName``, else its endpoint prefix).
    signing_name: str
    #: ``X-Amz-Target``'s prefix (and the CBOR path's service), when the model has one.
    target_prefix: str | None
    #: The wire names of its operations, when it speaks the query protocol (``Action``).
    actions: frozenset[str]


class Services:
    """The registry of the services served through ``service.handle``, and their door."""

    def __init__(
        self, auth: Authenticator, models: ServiceModels, *, account_id: str = arns.ACCOUNT_ID
    ) -> None:
        self.auth = auth
        self.models = models
        self.account_id = account_id
        self._pending: list[Service] = []
        self._entries: list[Entry] = []

    def register(self, service: Service) -> None:
        """Serve ``service`` (its model is read when the first request needs it, or at
        :meth:`load`). A later registration of the same botocore name replaces the earlier."""
        self._pending.append(service)

    def load(self) -> None:
        """Read the registered services' models now (tens of ms each), not on a request."""
        for service in self._pending:
            loaded = self.models.load(
                service.service_name,
                overlay=service.overlay,
                extra_protocols=service.extra_protocols,
            )
            if loaded is None:
                raise ValueError(f"botocore has no model of the service {service.service_name!r}")
            metadata = loaded.model.metadata
            entry = Entry(
                service,
                str(metadata.get("signingName") or metadata["endpointPrefix"]),
                metadata.get("targetPrefix"),
                frozenset(loaded.by_wire_name) if "query" in loaded.protocols else frozenset(),
            )
            name = service.service_name
            self._entries = [e for e in self._entries if e.service.service_name != name]
            self._entries.append(entry)
        self._pending.clear()

    @property
    def entries(self) -> Sequence[Entry]:
        if self._pending:
            self.load()
        return self._entries

    def named(self, service_name: str) -> Service | None:
        """The registered service of botocore's name ``service_name`` (the latest registration
        of it), for callers inside the platform; no model is loaded."""
        registered = [*(e.service for e in self._entries), *self._pending]
        return next((s for s in reversed(registered) if s.service_name == service_name), None)

    def pick(
        self, signing: str | None, target: str | None, form_action: str | None = None
    ) -> Entry | None:
        """The registered service a request names: by its scope's service (several share one,
        as DynamoDB and DynamoDB Streams do: the target prefix tells them apart), else by its
        target prefix, else by the query protocol's ``Action``. Pure over the registry."""
        entries = self.entries
        if signing:
            candidates = [e for e in entries if e.signing_name == signing]
            chosen = [e for e in candidates if target and e.target_prefix == target]
            found = chosen or candidates
            return found[0] if found else None
        if target:
            return next((e for e in entries if e.target_prefix == target), None)
        if form_action:
            return next((e for e in entries if form_action in e.actions), None)
        return None

    def takes_forms(self) -> bool:
        """Whether a registered service speaks the query protocol (an unsigned form may be
        for it)."""
        return any(e.actions for e in self.entries)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request that names its service by its signature or its target."""
        request_id = new_request_id()
        head = _head(scope)
        signing = sigv4.scope_service(head.headers, head.query)
        target = _target(head)
        entry = self.pick(signing, target)
        if entry is None:
            body, _ = await _read(scope, receive, MAX_FORM_BYTES)
            name = signing or target or "unknown"
            answer = unserved(
                name, _with_body(head, body), models=self.models, request_id=request_id
            )
            await _send(send, answer)
            return
        await self._serve(entry, scope, receive, send, head, request_id, None)

    async def serve_form(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Serve an unsigned query-protocol form (or a GET with ``Action``) whose ``Action``
        a registered service has; False, having answered nothing, when none has it (the body
        is read then: the caller answers without it)."""
        head = _head(scope)
        body, too_large = await _read(scope, receive, MAX_FORM_BYTES)
        if too_large:
            return False
        request = _with_body(head, body)
        try:
            wanted = action(request)
        except Refused:  # not a well-formed form: not the services'
            return False
        entry = self.pick(None, None, wanted)
        if entry is None:
            return False
        anonymous = wanted in entry.service.anonymous_actions
        await self._serve(entry, scope, receive, send, head, new_request_id(), body, anonymous)
        return True

    def document(self, path: str) -> tuple[str, bytes] | None:
        """A document a registered service publishes at ``path`` (``Service.document``)."""
        for entry in self.entries:
            found = entry.service.document(path)
            if found is not None:
                return found
        return None

    async def _serve(
        self,
        entry: Entry,
        scope: Scope,
        receive: Receive,
        send: Send,
        head: Request,
        request_id: str,
        body: bytes | None,
        anonymous: bool = False,
    ) -> None:
        service = entry.service
        too_large = False
        if body is None:
            body, too_large = await _read(scope, receive, service.max_request_bytes)
        request = _with_body(head, body)
        protocol = protocol_of(service, request, models=self.models)
        if too_large:
            fault = Fault(
                "RequestEntityTooLarge",
                f"Request must be smaller than {service.max_request_bytes} bytes",
                413,
                True,
            )
            await self._refuse(send, service, protocol, fault, request_id)
            return
        try:
            verified = self.auth.verify(
                entry.signing_name,
                head.method,
                head.path,
                head.query,
                head.headers,
                payload_hash=hashlib.sha256(body).hexdigest(),
                anonymous=anonymous,
            )
        except SignatureRefused as error:
            code, status, message = signature_code(error, FAMILIES.get(protocol, "json"))
            await self._refuse(
                send, service, protocol, Fault(code, message, status, True), request_id
            )
            return
        response = await handle(
            service,
            head.method,
            head.path,
            head.query,
            head.headers,
            body,
            models=self.models,
            request_id=request_id,
            region=self.auth.region,
            account_id=self.account_id,
            access_key=verified.access_key if verified is not None else "",
            function=(verified.function or "") if verified is not None else "",
        )
        await _send(send, response)

    async def _refuse(
        self, send: Send, service: Service, protocol: str, fault: Fault, request_id: str
    ) -> None:
        await _send(
            send, refusal(service, protocol, fault, models=self.models, request_id=request_id)
        )


def _head(scope: Scope) -> Request:
    """The request as the codecs read it, before its body is read."""
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    query: bytes = scope.get("query_string", b"")
    return Request(scope["method"], raw_path_of(scope), query.decode("latin-1"), headers, b"")


def _with_body(head: Request, body: bytes) -> Request:
    return dataclasses.replace(head, body=body)


def _target(request: Request) -> str | None:
    """``X-Amz-Target``'s prefix, or the CBOR path's service."""
    target = request.header("x-amz-target")
    if target:
        return target.rsplit(".", 1)[0]
    if request.header("smithy-protocol") and request.path.startswith("/service/"):
        return request.path.split("/")[2] or None
    return None


async def _read(scope: Scope, receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, and whether it passed ``limit`` (then empty, the rest drained)."""
    try:
        return await read_body(scope, receive, limit), False
    except BodyTooLarge:
        return b"", True


async def _send(send: Send, response: Response) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await respond(send, response.status, response.body, headers)


def form_request(scope: Scope) -> bool:
    """Whether an unsigned request may be a query-protocol call: a form POST, or ``Action``
    in a GET's query string."""
    if scope["method"] == "GET":
        return b"Action=" in scope.get("query_string", b"")
    if scope["method"] != "POST":
        return False
    for name, value in scope["headers"]:
        if name == b"content-type":
            return bool(value.lower().startswith(b"application/x-www-form-urlencoded"))
    return False
