"""What a Cloud Functions style function's return value becomes, by Flask's rules for a view's
return value, and ``Response``, the response object for functions that do not use Flask's.

Accepted: ``str`` (text/html; charset=utf-8), ``bytes``, ``dict`` or ``list`` (JSON as
``flask.jsonify`` writes it), an iterator of str/bytes, a response object (``status_code``,
``headers`` and ``get_data()``: Flask's, werkzeug's or :class:`Response`), or a ``(body,
status)``, ``(body, headers)`` or ``(body, status, headers)`` tuple of those. ``None`` and
anything else raise ``TypeError``, as Flask does: the invocation is a function error.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping
from email.utils import format_datetime
from http import HTTPStatus
from http.cookies import Morsel
from typing import Any

from skylet.worker.http_envelope import Answer
from skylet.worker.web.datastructures import Headers

JSON_TYPE = "application/json"
_CHARSET_TYPES = frozenset({"application/javascript", "application/xml", "application/sql"})


class Response:
    """A response: body, status and headers, with werkzeug's constructor and attributes."""

    default_mimetype = "text/html"

    def __init__(
        self,
        response: str | bytes | bytearray | Iterable[str | bytes] | None = None,
        status: int | str | HTTPStatus | None = None,
        headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | Headers | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.headers = headers if isinstance(headers, Headers) else Headers(headers)
        self.status_code = 200 if status is None else status_code(status)
        if content_type is None:
            if mimetype is None and "content-type" not in self.headers:
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = with_charset(mimetype)
        if content_type is not None:
            self.headers.set("Content-Type", content_type)
        self.set_data(_join(response))

    @property
    def status(self) -> str:
        try:
            return f"{self.status_code} {HTTPStatus(self.status_code).phrase.upper()}"
        except ValueError:
            return f"{self.status_code} UNKNOWN"

    @status.setter
    def status(self, value: int | str | HTTPStatus) -> None:
        self.status_code = status_code(value)

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers.set("Content-Type", value)

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers.set("Content-Type", with_charset(value))

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode("utf-8", "replace") if as_text else self._body

    def set_data(self, value: str | bytes | bytearray) -> None:
        self._body = value.encode() if isinstance(value, str) else bytes(value)

    data = property(get_data, set_data)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | datetime.timedelta | None = None,
        expires: datetime.datetime | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
    ) -> None:
        morsel: Morsel[str] = Morsel()
        morsel.set(key, value, _cookie_value(value))
        if isinstance(max_age, datetime.timedelta):
            max_age = int(max_age.total_seconds())
        if max_age is not None:
            morsel["max-age"] = str(max_age)
        if expires is not None:
            morsel["expires"] = http_date(expires)
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        morsel["secure"] = secure
        morsel["httponly"] = httponly
        if samesite is not None:
            morsel["samesite"] = samesite.title()
        self.headers.add("Set-Cookie", morsel.OutputString())

    def delete_cookie(self, key: str, path: str | None = "/", domain: str | None = None) -> None:
        self.set_cookie(key, expires=0, max_age=0, path=path, domain=domain)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self._body)} bytes [{self.status}]>"


def _cookie_value(value: str) -> str:
    """The value as is when every character may stand bare in a cookie, else quoted with
    backslash escapes (non-ASCII as octal UTF-8 bytes, as werkzeug writes them)."""
    if all((c.isascii() and c.isalnum()) or c in "!#$%&'()*+-./:<=>?@[]^_`{|}~" for c in value):
        return value
    escaped = []
    for c in value:
        if c in '"\\':
            escaped.append("\\" + c)
        elif c.isascii():
            escaped.append(c)
        else:
            escaped.extend(f"\\{byte:03o}" for byte in c.encode())
    return '"' + "".join(escaped) + '"'


def with_charset(mimetype: str) -> str:
    """``text/plain`` → ``text/plain; charset=utf-8``, as werkzeug completes a mimetype."""
    if mimetype.startswith("text/") or mimetype in _CHARSET_TYPES or mimetype.endswith("+xml"):
        return f"{mimetype}; charset=utf-8"
    return mimetype


def status_code(value: int | str | HTTPStatus) -> int:
    """``201``, ``"201"`` and ``"201 CREATED"`` are all 201."""
    if isinstance(value, int):
        return int(value)
    try:
        return int(value.split(None, 1)[0])
    except (ValueError, IndexError):
        raise ValueError(f"{value!r} is not an HTTP status") from None


def http_date(value: datetime.date | datetime.datetime | float) -> str:
    """``Wed, 21 Oct 2015 07:28:00 GMT``; naive datetimes and dates are taken as UTC."""
    if isinstance(value, int | float):
        moment = datetime.datetime.fromtimestamp(value, datetime.UTC)
    elif isinstance(value, datetime.datetime):
        utc = datetime.UTC
        moment = value.replace(tzinfo=utc) if value.tzinfo is None else value.astimezone(utc)
    else:
        moment = datetime.datetime(value.year, value.month, value.day, tzinfo=datetime.UTC)
    return format_datetime(moment, usegmt=True)


def _join(body: str | bytes | bytearray | Iterable[str | bytes] | None) -> bytes:
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return b"".join(chunk.encode() if isinstance(chunk, str) else bytes(chunk) for chunk in body)


# -- a function's return value ----------------------------------------------------------------


def http_response(result: Any) -> Answer:
    """The response (status, headers, body) for what an HTTP function returned."""
    status: Any = None
    headers: Any = None
    if isinstance(result, tuple):
        if len(result) == 3:
            result, status, headers = result
        elif len(result) == 2:
            result, second = result
            if isinstance(second, Headers | Mapping | tuple | list):
                headers = second
            else:
                status = second
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must have "
                "the form (body, status, headers), (body, status), or (body, headers)."
            )
    response = make_response(result)
    if status is not None:
        response.status_code = status_code(status)
    if headers:
        response.headers.update(headers)
    return response_answer(response)


def make_response(result: Any) -> Any:
    """A response object for a return value without its status and headers."""
    if result is None:
        raise TypeError(
            "The view function did not return a valid response. The function either returned "
            "None or ended without a return statement."
        )
    if isinstance(result, str | bytes | bytearray):
        return Response(result)
    if isinstance(result, dict | list):
        return Response(jsonify_text(result), mimetype=JSON_TYPE)
    if isinstance(result, Iterator):
        return Response(result)
    if hasattr(result, "status_code") and hasattr(result, "get_data"):
        return result
    raise TypeError(
        "The view function did not return a valid response. The return type must be a string, "
        f"dict, list, tuple with headers or status, Response instance, but it was a "
        f"{type(result).__name__}."
    )


def response_answer(response: Any) -> Answer:
    """(status, headers, body) of a response object (ours, or anything shaped like
    werkzeug's)."""
    items = response.headers.items()
    # The gateway frames the body itself; a length the function set could only disagree.
    headers = [(str(k), str(v)) for k, v in items if str(k).lower() != "content-length"]
    return int(response.status_code), headers, bytes(response.get_data())


def jsonify_text(value: Any) -> str:
    """JSON as ``flask.jsonify`` writes it outside debug mode: compact, sorted keys, ASCII,
    a trailing newline, and dates, decimals, UUIDs and dataclasses converted."""
    return json.dumps(value, default=_json_default, separators=(",", ":"), sort_keys=True) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime.date):
        return http_date(value)
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__html__"):
        return str(value.__html__())
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
