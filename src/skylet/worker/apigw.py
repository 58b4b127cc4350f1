"""API Gateway's Lambda proxy integration, inside the instance: the event a function receives
and how its result becomes the HTTP response, for REST APIs (payload format 1.0) and HTTP APIs
(2.0). Pure, apart from drawing random trace ids.

The shapes follow AWS's documented examples field by field, including which fields are ``null``
and which are absent. docs/http.md lists the values skylet fills in (api id, domain, account).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from skylet import fastjson
from skylet.wire import http as wire
from skylet.wire.http import Trigger
from skylet.worker.http_envelope import Answer

#: without a content type, arrives base64-encoded.
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
#: The binary media types of a REST API that configures none (skylet's defaults; API Gateway's
#: own default is none).
_DEFAULT_BINARY_MEDIA_TYPES = (
    "image/*",
    "audio/*",
    "video/*",
    "font/*",
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "multipart/form-data",
)
#: Request headers a REST API does not pass to the function (it sets its own forwarding ones).
_REST_DROPPED = frozenset(
    {"content-length", "connection", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto"}
)
#: The top-level keys a REST API accepts in a proxy result; any other is a 502.
_REST_RESULT_KEYS = frozenset(
    {"body", "statusCode", "headers", "multiValueHeaders", "isBase64Encoded"}
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class HttpRequest(NamedTuple):
    """One request as the gateway received it: what an API Gateway event is built from. (Named
    tuples here: one of each is made per request, four times faster than a frozen dataclass.)"""

    method: str
    raw_path: str  # as sent, percent-encoded
    path: str  # percent-decoded
    query_string: str  # raw, without "?"
    headers: tuple[tuple[str, str], ...]  # names as sent, in order, duplicates kept
    body: bytes
    source_ip: str
    host: str  # the Host header (or the server's address when there is none)
    received_at: float  # epoch seconds
    protocol: str = "HTTP/1.1"
    scheme: str = "http"
    port: int = 80  # the port the client connected to

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Api:
    """What identifies the API a request came through: account, region, api id, stage."""

    account_id: str
    region: str
    api_id: str
    stage: str
    domain_name: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        domain = f"{self.api_id}.execute-api.{self.region}.amazonaws.com"
        object.__setattr__(self, "domain_name", domain)

    @property
    def deployment_id(self) -> str:
        """A 6-character deployment id like API Gateway's ``wtzexd``, stable per api id."""
        return _deployment_id(self.api_id)


@functools.lru_cache(maxsize=64)
def _deployment_id(api_id: str) -> str:
    return hashlib.sha256(f"deployment/{api_id}".encode()).hexdigest()[:6]


def api_of(trigger: Trigger) -> Api:
    """The API a trigger names."""
    return _api(trigger.account_id, trigger.region, trigger.api_id, trigger.stage)


@functools.lru_cache(maxsize=64)
def _api(account_id: str, region: str, api_id: str, stage: str) -> Api:
    return Api(account_id, region, api_id, stage)


@functools.lru_cache(maxsize=4)
def _clf_second(second: int) -> str:
    t = time.gmtime(second)
    return (
        f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def _clf_time(epoch: float) -> str:
    """``12/Mar/2020:19:03:58 +0000``, the access-log time API Gateway puts in events."""
    return _clf_second(int(epoch))


def trace_id(epoch: float) -> str:
    """An X-Ray trace header, ``Root=1-<epoch seconds, 8 hex>-<96 random bits, 24 hex>``."""
    return f"Root=1-{int(epoch):08x}-{random.randbytes(12).hex()}"


def _media_type(value: str | None) -> str:
    """A media type as a header gives it (Content-Type, or one of Accept's), lower-case and
    without parameters; "" for none."""
    return (value or "").split(";", 1)[0].strip().lower()


def _is_text_for_http_api(media_type: str) -> bool:
    return media_type.startswith("text/") or media_type in _TEXT_TYPES


def _body(request: HttpRequest, binary: bool) -> tuple[str, bool]:
    if binary:
        return base64.b64encode(request.body).decode(), True
    try:
        return request.body.decode(), False
    except UnicodeDecodeError:  # not text whatever its type says: it must survive intact
        return base64.b64encode(request.body).decode(), True


def v2_event(request: HttpRequest, trigger: Trigger) -> dict[str, Any]:
    """The HTTP API (payload format 2.0) event. ``rawPath`` is the decoded path, as AWS sends it."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    user_agent = ""
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
        elif key in headers:
            headers[key] = f"{headers[key]},{value}"
        else:
            headers[key] = value
            if key == "user-agent":
                user_agent = value
    route_key = trigger.route_key
    api = api_of(trigger)
    context: dict[str, Any] = {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": api.domain_name,
        "domainPrefix": api.api_id,
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": user_agent,
        },
        "requestId": trigger.request_id,
        "routeKey": route_key,
        "stage": api.stage,
        "time": _clf_time(request.received_at),
        "timeEpoch": int(request.received_at * 1000),
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if request.query_string:
        query: dict[str, str] = {}
        for key, value in parse_qsl(request.query_string, keep_blank_values=True):
            query[key] = f"{query[key]},{value}" if key in query else value
        if query:
            event["queryStringParameters"] = query
    event["requestContext"] = context
    if trigger.raw_path_parameters:
        params = trigger.raw_path_parameters
        event["pathParameters"] = {name: unquote(value) for name, value in params.items()}
    if request.body:
        media = _media_type(request.header("content-type"))
        body, encoded = _body(request, not _is_text_for_http_api(media))
        event["body"] = body
    else:
        encoded = False
    event["isBase64Encoded"] = encoded
    return event


def _rest_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The request headers a REST API passes: the client's, less Content-Length and Connection,
    plus the forwarding headers and a trace id (the client's own trace id is kept)."""
    forwarded_for = request.header("x-forwarded-for")
    headers = [(k, v) for k, v in request.headers if k.lower() not in _REST_DROPPED]
    headers.append(
        (
            "X-Forwarded-For",
            f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip,
        )
    )
    headers.append(("X-Forwarded-Port", str(request.port)))
    headers.append(("X-Forwarded-Proto", request.scheme))
    if request.header("x-amzn-trace-id") is None:
        headers.append(("X-Amzn-Trace-Id", trace_id(request.received_at)))
    return headers


def v1_event(request: HttpRequest, trigger: Trigger) -> dict[str, Any]:
    """The REST API (payload format 1.0) proxy event. ``path`` and ``pathParameters`` stay
    percent-encoded as sent; ``domainName`` is the request's Host."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in _rest_headers(request):
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    resource = trigger.resource
    api = api_of(trigger)
    identity = dict.fromkeys(
        (
            "accessKey",
            "accountId",
            "caller",
            "cognitoAuthenticationProvider",
            "cognitoAuthenticationType",
            "cognitoIdentityId",
            "cognitoIdentityPoolId",
            "principalOrgId",
            "sourceIp",
            "user",
            "userAgent",
            "userArn",
        )
    )
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = request.header("user-agent")
    media = _media_type(request.header("content-type"))
    if request.body:
        configured = trigger.binary_media_types
        binary = is_binary_media_type(
            media, _DEFAULT_BINARY_MEDIA_TYPES if configured is None else configured
        )
        body: str | None
        body, encoded = _body(request, binary)
    else:
        body, encoded = None, False
    return {
        "resource": resource,
        "path": request.raw_path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(trigger.raw_path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": api.account_id,
            "apiId": api.api_id,
            "deploymentId": api.deployment_id,
            "domainName": request.host,
            "domainPrefix": api.api_id,
            "extendedRequestId": trigger.extended_id,
            "httpMethod": request.method,
            "identity": identity,
            "path": f"/{api.stage}{request.raw_path}",
            "protocol": request.protocol,
            "requestId": trigger.request_id,
            "requestTime": _clf_time(request.received_at),
            "requestTimeEpoch": int(request.received_at * 1000),
            "resourceId": _resource_id(resource),
            "resourcePath": resource,
            "stage": api.stage,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


@functools.lru_cache(maxsize=256)
def _resource_id(resource: str) -> str:
    """A 6-character resource id like API Gateway's ``2gxmpl``, stable per path template."""
    return uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6]


# -- responses ------------------------------------------------------------------------------


class MalformedResponse(ValueError):
    """The function's result is not a proxy response API Gateway could send."""


def _parse(payload: bytes) -> Any:
    try:
        return fastjson.loads(payload)
    except ValueError as error:
        raise MalformedResponse("the result is not JSON") from error


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise MalformedResponse(f"header value {value!r} is not a string")


def _structured(result: dict[str, Any], *, v2: bool) -> Answer:
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers must be objects")
    headers: list[tuple[str, str]]
    if not multi and all(type(v) is str for v in single.values()):
        headers = list(single.items())  # the common case: plain headers, nothing to check
        named = {name.lower() for name in single}
    else:
        headers, named = _headers(single, multi)
    # A result that names no Content-Type gets a default one; naming it null suppresses it.
    if "content-type" not in named:
        headers.append(("content-type", "text/plain; charset=utf-8" if v2 else "application/json"))
    if v2 and (cookies := result.get("cookies")):
        if not isinstance(cookies, list):
            raise MalformedResponse("cookies must be a list")
        headers.extend(("set-cookie", _header_value(c)) for c in cookies)
    body = result.get("body")
    if type(body) is str and result.get("isBase64Encoded") is not True:
        return (status, headers, body.encode())
    return (status, headers, _body_bytes(body, result, v2))


def _headers(
    single: dict[str, Any], multi: dict[str, Any]
) -> tuple[list[tuple[str, str]], set[str]]:
    """The response headers from ``headers`` and ``multiValueHeaders``, and every lower-case
    name the result gives (null or not)."""
    headers: list[tuple[str, str]] = []
    named: set[str] = set()
    for name, values in multi.items():
        named.add(name.lower())
        if values is None:
            continue  # null: the header is not sent
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders.{name} is not a list")
        headers.extend((name, _header_value(v)) for v in values)
    multi_names = frozenset(named)
    for name, value in single.items():
        lower = name.lower()
        named.add(lower)
        # multiValueHeaders win for the same name; null means "do not send it"
        if value is not None and lower not in multi_names:
            headers.append((name, value if type(value) is str else _header_value(value)))
    return headers, named


def _body_bytes(body: Any, result: dict[str, Any], v2: bool) -> bytes:
    if body is None:
        raw = b""
    elif isinstance(body, str):
        if result.get("isBase64Encoded") is True:
            try:
                raw = base64.b64decode(body, validate=True)
            except binascii.Error as error:
                raise MalformedResponse("body is not valid base64") from error
        else:
            raw = body.encode()
    elif v2:
        raw = json.dumps(body).encode()  # HTTP APIs serialise a non-string body
    else:
        raise MalformedResponse("body must be a string")
    return raw


def v1_response(payload: bytes) -> Answer:
    """The HTTP response for a REST API route; MalformedResponse when API Gateway would 502:
    not an object, no valid ``statusCode``, or a key other than the five it knows."""
    return v1_result(_parse(payload))


def v1_result(result: Any, *, binary: bool = True) -> Answer:
    """:func:`v1_response` for a result already parsed (or :func:`as_parsed`). ``binary``:
    whether the API returns binary media to this request (:func:`returns_binary`); when it
    does not, a base64 body (``isBase64Encoded``) is sent as the base64 text it is."""
    if not isinstance(result, dict):
        raise MalformedResponse("the result is not an object")
    unknown = sorted(set(result) - _REST_RESULT_KEYS)
    if unknown:
        raise MalformedResponse(f"unknown keys in the result: {', '.join(unknown)}")
    if not binary and result.get("isBase64Encoded") is True:
        result = {**result, "isBase64Encoded": False}
    return _structured(result, v2=False)


def is_binary_media_type(media_type: str, binary_media_types: Iterable[str]) -> bool:
    """Whether ``media_type`` (lower-case, without parameters) is one of a REST API's binary
    media types, where ``*`` stands for any type or subtype (``image/*``, ``*/*``)."""
    kind, _, subtype = media_type.partition("/")
    for pattern in binary_media_types:
        want_kind, _, want_subtype = pattern.lower().partition("/")
        if want_kind in ("*", kind) and want_subtype in ("*", subtype):
            return True
    return False


def returns_binary(request: HttpRequest, trigger: Trigger) -> bool:
    """Whether a REST API returns a base64 result body as binary: always with skylet's default
    binary media types; with configured ones, when the first type of the request's ``Accept``
    is one of them, as API Gateway decides (``*/*`` configured: always)."""
    configured = trigger.binary_media_types
    if configured is None:
        return True
    first = (request.header("accept") or "").split(",", 1)[0]
    return is_binary_media_type(_media_type(first), configured)


def v2_response(payload: bytes) -> Answer:
    """The HTTP response for an HTTP API route: a result without ``statusCode`` is the body of
    a 200 application/json response, as payload format 2.0 specifies."""
    return v2_result(_parse(payload), lambda: payload)


def v2_result(result: Any, serialised: Callable[[], bytes]) -> Answer:
    """:func:`v2_response` for a result already parsed (or :func:`as_parsed`); ``serialised``
    gives its JSON text, the body when it is not a structured response."""
    if isinstance(result, dict) and "statusCode" in result:
        return _structured(result, v2=True)
    return (200, [("content-type", "application/json")], serialised())


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _plain_list(values: list[Any]) -> bool:
    return all(type(v) in _PLAIN for v in values)


def as_parsed(result: Any, to_json: Callable[[Any], str]) -> Any:
    """The value API Gateway would read back from a handler's result once Lambda serialised it
    with ``to_json``: the result itself when that changes nothing (the common case, checked
    two levels deep: a response object with plain headers), otherwise its JSON read back, so
    tuples, decimals and non-string keys are mapped exactly as they would be in AWS. Raises
    what ``to_json`` raises for a result that is not serialisable."""
    if type(result) is dict:
        for key, value in result.items():
            kind = type(value)
            if type(key) is not str:
                break
            if kind in _PLAIN:
                continue
            if kind is dict:
                if all(
                    type(k) is str and (type(v) in _PLAIN or (type(v) is list and _plain_list(v)))
                    for k, v in value.items()
                ):
                    continue
                break
            if kind is list and _plain_list(value):
                continue
            break
        else:
            return result
    return json.loads(to_json(result))


class Wire(NamedTuple):
    """A routed request and its trigger, as the instance reads them off the pipe."""

    request: HttpRequest
    trigger: Trigger


def from_wire(data: Any, body: bytes) -> Wire:
    """The request (Host from its header, else the server's address) and the trigger that
    skylet.wire.http.encode sent; ValueError for anything else."""
    sent, trigger = wire.decode(data)
    headers = tuple((name, value) for name, value in sent.headers)
    server = sent.server
    host = next((value for name, value in headers if name.lower() == "host"), None)
    if host is None:
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    request = HttpRequest(
        sent.method,
        sent.raw_path,
        sent.path,
        sent.query,
        headers,
        body,
        sent.client_ip or "127.0.0.1",
        host,
        sent.received_at,
        f"HTTP/{sent.http_version}",
        sent.scheme,
        int(server[1]) if server else (443 if sent.scheme == "https" else 80),
    )
    return Wire(request, trigger)
