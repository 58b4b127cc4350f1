"""API Gateway's Lambda proxy integration: the event a function receives and how its result
becomes the HTTP response, for REST APIs (payload format 1.0) and HTTP APIs (2.0). Pure.

The shapes follow AWS's documented examples field by field, including which fields are ``null``
and which are absent. docs/http.md lists the values skylet fills in (api id, domain, account).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from skylet.gateway.routing import RouteMatch

#: Content types an HTTP API passes as text; every other body arrives base64-encoded.
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
#: Content types a REST API (with skylet's default binary media types) passes base64-encoded.
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = (
    "application/octet-stream",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "multipart/form-data",
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request as the gateway received it: what an API Gateway event is built from."""

    method: str
    raw_path: str  # as sent, percent-encoded
    path: str  # percent-decoded
    query_string: str  # raw, without "?"
    headers: tuple[tuple[str, str], ...]  # names as sent, in order, duplicates kept
    body: bytes
    source_ip: str
    host: str
    received_at: float  # epoch seconds
    protocol: str = "HTTP/1.1"

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

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


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


def _media_type(request: HttpRequest) -> str:
    value = request.header("content-type") or ""
    return value.split(";", 1)[0].strip().lower()


def _is_text_for_http_api(media_type: str) -> bool:
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


def _body(request: HttpRequest, binary: bool) -> tuple[str, bool]:
    if binary:
        return base64.b64encode(request.body).decode(), True
    try:
        return request.body.decode(), False
    except UnicodeDecodeError:  # not text whatever its type says: it must survive intact
        return base64.b64encode(request.body).decode(), True


def http_api_request_id() -> str:
    """An HTTP API request id: 16 characters, like ``JKJaXmPLvHcESHA=``. Unique, not secret:
    a pseudo-random source is enough and costs no system call."""
    return base64.b64encode(random.randbytes(11)).decode()


def v2_event(request: HttpRequest, match: RouteMatch, api: Api, request_id: str) -> dict[str, Any]:
    """The HTTP API (payload format 2.0) event."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    route_key = match.route.route_key
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
            "userAgent": request.header("user-agent") or "",
        },
        "requestId": request_id,
        "routeKey": route_key,
        "stage": api.stage,
        "time": _clf_time(request.received_at),
        "timeEpoch": int(request.received_at * 1000),
    }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.query_string,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = context
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    if request.body:
        body, encoded = _body(request, not _is_text_for_http_api(_media_type(request)))
        event["body"] = body
    else:
        encoded = False
    event["isBase64Encoded"] = encoded
    return event


def v1_event(request: HttpRequest, match: RouteMatch, api: Api, request_id: str) -> dict[str, Any]:
    """The REST API (payload format 1.0) proxy event."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    resource = match.route.path
    identity = dict.fromkeys(
        (
            "accessKey",
            "accountId",
            "apiKey",
            "apiKeyId",
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
    media = _media_type(request)
    if request.body:
        binary = media.startswith(_BINARY_PREFIXES) or media in _BINARY_TYPES
        body: str | None
        body, encoded = _body(request, binary)
    else:
        body, encoded = None, False
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": api.account_id,
            "apiId": api.api_id,
            "domainName": api.domain_name,
            "domainPrefix": api.api_id,
            "extendedRequestId": http_api_request_id(),
            "httpMethod": request.method,
            "identity": identity,
            "path": f"/{api.stage}{request.path}",
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": _clf_time(request.received_at),
            "requestTimeEpoch": int(request.received_at * 1000),
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
            "resourcePath": resource,
            "stage": api.stage,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


# -- responses ------------------------------------------------------------------------------


class MalformedResponse(ValueError):
    """The function's result is not a proxy response API Gateway could send."""


def _api_error(status: int, message: str, request_id: str) -> HttpResponse:
    headers = [("content-type", "application/json"), ("apigw-requestid", request_id)]
    if status >= 500:
        headers.append(("x-amzn-errortype", "InternalServerErrorException"))
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


def internal_error(request_id: str, *, rest: bool) -> HttpResponse:
    """502 for a function error or a malformed result (the REST API's text differs in case)."""
    message = "Internal server error" if rest else "Internal Server Error"
    return _api_error(502, message, request_id)


def timeout_error(request_id: str) -> HttpResponse:
    return _api_error(504, "Endpoint request timed out", request_id)


def not_found(request_id: str, *, rest: bool) -> HttpResponse:
    """No route: a REST API answers 403 Missing Authentication Token, an HTTP API 404."""
    if rest:
        return _api_error(403, "Missing Authentication Token", request_id)
    return _api_error(404, "Not Found", request_id)


def too_large(request_id: str, *, rest: bool) -> HttpResponse:
    return _api_error(413, "Request Too Long" if rest else "Request Entity Too Large", request_id)


def throttled(request_id: str) -> HttpResponse:
    return _api_error(429, "Too Many Requests", request_id)


def unavailable(request_id: str) -> HttpResponse:
    return _api_error(503, "Service Unavailable", request_id)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise MalformedResponse(f"header value {value!r} is not a string")


def _structured(result: dict[str, Any], *, v2: bool) -> HttpResponse:
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status!r} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedResponse("headers must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders.{name} is not a list")
        headers.extend((name, _header_value(v)) for v in values)
    multi_names = {n.lower() for n in multi}
    for name, value in single.items():
        if name.lower() not in multi_names:  # multiValueHeaders win for the same name
            headers.append((name, _header_value(value)))
    if v2:
        cookies = result.get("cookies") or []
        if not isinstance(cookies, list):
            raise MalformedResponse("cookies must be a list")
        headers.extend(("set-cookie", _header_value(c)) for c in cookies)
    body = result.get("body")
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
    return HttpResponse(status, headers, raw)


def v1_response(payload: bytes) -> HttpResponse:
    """The HTTP response for a REST API route; MalformedResponse when API Gateway would 502."""
    try:
        result = json.loads(payload)
    except ValueError as error:
        raise MalformedResponse("the result is not JSON") from error
    if not isinstance(result, dict):
        raise MalformedResponse("the result is not an object")
    return _structured(result, v2=False)


def v2_response(payload: bytes) -> HttpResponse:
    """The HTTP response for an HTTP API route: a result without ``statusCode`` is the body of
    a 200 application/json response, as payload format 2.0 specifies."""
    try:
        result = json.loads(payload)
    except ValueError as error:
        raise MalformedResponse("the result is not JSON") from error
    if isinstance(result, dict) and "statusCode" in result:
        return _structured(result, v2=True)
    return HttpResponse(200, [("content-type", "application/json")], payload)
