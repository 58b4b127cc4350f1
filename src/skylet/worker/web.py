"""Cloud Functions and Knative style functions inside an instance: the request object they get,
the CloudEvent, and what their return values become. No Flask: the request offers the part of
werkzeug's Request that such functions use, and results follow Flask's rules for view returns.

- ``style: http``: ``handler(request)`` → str (text/html), bytes, dict or list (JSON), a
  ``(body, status)``, ``(body, headers)`` or ``(body, status, headers)`` tuple, or a response
  object (anything with ``status_code``, ``headers`` and ``get_data()``, such as Flask's, or
  :class:`Response`). ``None`` is an error, as in Flask.
- ``style: cloudevent``: ``handler(event)`` with a ``cloudevents.http.CloudEvent`` read from
  binary or structured HTTP mode; a request that is not a valid CloudEvent is answered 400
  without calling the function, and a call that returns answers ``200 OK``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl

from skylet.worker.http_envelope import EnvelopeRequest, encode_response

JSON_TYPE = "application/json"


class BadRequest(Exception):
    """Raised by ``get_json()`` on a body that is not JSON (Flask answers 400)."""

    code = 400


class UnsupportedMediaType(Exception):
    """Raised by ``get_json()`` when the request is not JSON (Flask ≥ 2.3 answers 415)."""

    code = 415


class MultiDict:
    """Several values per key, in order; ``[key]`` and ``get`` give the first."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = (), *, fold_case: bool = False) -> None:
        self._fold = fold_case
        self._pairs = list(pairs)

    def _key(self, key: str) -> str:
        return key.lower() if self._fold else key

    def getlist(self, key: str, type: Any = None) -> list[Any]:
        wanted = self._key(key)
        values = [v for k, v in self._pairs if self._key(k) == wanted]
        if type is None:
            return values
        converted = []
        for value in values:
            try:
                converted.append(type(value))
            except (TypeError, ValueError):
                continue
        return converted

    def get(self, key: str, default: Any = None, type: Any = None) -> Any:
        for value in self.getlist(key):
            if type is None:
                return value
            try:
                return type(value)
            except (TypeError, ValueError):
                return default
        return default

    def __getitem__(self, key: str) -> str:
        values = self.getlist(key)
        if not values:
            raise KeyError(key)
        return str(values[0])

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self.getlist(key))

    def __iter__(self) -> Iterator[str]:
        seen: list[str] = []
        for key, _ in self._pairs:
            if self._key(key) not in (self._key(s) for s in seen):
                seen.append(key)
        return iter(seen)

    def __len__(self) -> int:
        return len(list(iter(self)))

    def keys(self) -> list[str]:
        return list(iter(self))

    def items(self, multi: bool = False) -> list[tuple[str, str]]:
        if multi:
            return list(self._pairs)
        return [(k, self[k]) for k in self]

    def values(self) -> list[str]:
        return [self[k] for k in self]

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        if flat:
            return {k: self[k] for k in self}
        return {k: self.getlist(k) for k in self}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._pairs!r})"


class Request:
    """What an HTTP function receives: werkzeug's Request, as far as such functions use it."""

    def __init__(self, envelope: EnvelopeRequest) -> None:
        self._envelope = envelope
        self.method = envelope.method
        self.path = envelope.path
        self.scheme = envelope.scheme
        self.host = envelope.host
        self.remote_addr = envelope.remote_addr
        self.query_string = envelope.query.encode("latin-1")
        self.headers = MultiDict(_title(envelope.headers), fold_case=True)
        self.args = MultiDict(parse_qsl(envelope.query, keep_blank_values=True))
        self.data = envelope.body
        self._json: Any = None
        self._json_loaded = False
        self._form: MultiDict | None = None

    # -- URL -----------------------------------------------------------------------------------

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self._envelope.query}"

    @property
    def host_url(self) -> str:
        return f"{self.scheme}://{self.host}/"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}{self._envelope.raw_path}"

    @property
    def url(self) -> str:
        query = self._envelope.query
        return self.base_url + (f"?{query}" if query else "")

    @property
    def url_root(self) -> str:
        return self.host_url

    # -- body ----------------------------------------------------------------------------------

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else len(self.data)

    @property
    def is_json(self) -> bool:
        mime = self.mimetype
        return mime == JSON_TYPE or (mime.startswith("application/") and mime.endswith("+json"))

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        return self.data.decode("utf-8", "replace") if as_text else self.data

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The parsed JSON body. Not JSON content: 415 (None when ``silent``); bad JSON: 400."""
        if self._json_loaded:
            return self._json
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType("the request's content type is not application/json")
        try:
            value = json.loads(self.data)
        except ValueError as error:
            if silent:
                return None
            raise BadRequest(f"failed to decode JSON: {error}") from None
        if cache:
            self._json, self._json_loaded = value, True
        return value

    @property
    def form(self) -> MultiDict:
        if self._form is None:
            pairs: list[tuple[str, str]] = []
            if self.mimetype == "application/x-www-form-urlencoded":
                text = self.data.decode("utf-8", "replace")
                pairs = parse_qsl(text, keep_blank_values=True)
            self._form = MultiDict(pairs)
        return self._form

    @property
    def values(self) -> MultiDict:
        return MultiDict([*self.args.items(multi=True), *self.form.items(multi=True)])

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for value in self.headers.getlist("cookie"):
            jar.load(value)
        return {name: morsel.value for name, morsel in jar.items()}

    @property
    def user_agent(self) -> str:
        return str(self.headers.get("user-agent", ""))

    def __repr__(self) -> str:
        return f"<Request {self.url!r} [{self.method}]>"


def _title(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``content-type`` → ``Content-Type``, as werkzeug presents header names."""
    return [("-".join(p.capitalize() for p in k.split("-")), v) for k, v in headers]


class Response:
    """A response object for HTTP functions that do not use Flask's."""

    def __init__(
        self,
        response: str | bytes = b"",
        status: int = 200,
        headers: dict[str, str] | Iterable[tuple[str, str]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.status_code = status
        self._body = response.encode() if isinstance(response, str) else bytes(response)
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or ())
        self.headers = MultiDict(pairs, fold_case=True)
        if "content-type" not in self.headers:
            kind = content_type or (mimetype and _with_charset(mimetype))
            self.headers = MultiDict(
                [*pairs, ("Content-Type", kind or "text/html; charset=utf-8")], fold_case=True
            )

    def get_data(self, as_text: bool = False) -> Any:
        return self._body.decode() if as_text else self._body


def _with_charset(mimetype: str) -> str:
    return f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") else mimetype


# -- results ----------------------------------------------------------------------------------


def http_response(result: Any) -> bytes:
    """The response envelope for what an HTTP function returned (Flask's rules)."""
    status: int | None = None
    headers: list[tuple[str, str]] = []
    if isinstance(result, tuple):
        if len(result) == 3:
            result, status, extra = result
            headers = _header_pairs(extra)
        elif len(result) == 2:
            result, second = result
            if isinstance(second, dict | list):
                headers = _header_pairs(second)
            else:
                status = second
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must have "
                "the form (body, status, headers), (body, status), or (body, headers)."
            )
    if isinstance(status, str):
        status = int(status.split()[0])
    body, base_headers, base_status = _body(result)
    names = {k.lower() for k, _ in headers}
    merged = [(k, v) for k, v in base_headers if k.lower() not in names] + headers
    return encode_response(status or base_status, merged, body)


def _body(result: Any) -> tuple[bytes, list[tuple[str, str]], int]:
    if result is None:
        raise TypeError(
            "The view function did not return a valid response. The function either returned "
            "None or ended without a return statement."
        )
    if isinstance(result, str):
        return result.encode(), [("Content-Type", "text/html; charset=utf-8")], 200
    if isinstance(result, bytes | bytearray):
        return bytes(result), [("Content-Type", "text/html; charset=utf-8")], 200
    if isinstance(result, dict | list):
        text = json.dumps(result, separators=(",", ":"), sort_keys=True) + "\n"  # as Flask
        return text.encode(), [("Content-Type", JSON_TYPE)], 200
    if hasattr(result, "status_code") and hasattr(result, "get_data"):
        pairs = result.headers.items() if hasattr(result.headers, "items") else result.headers
        headers = [(str(k), str(v)) for k, v in pairs if str(k).lower() != "content-length"]
        return bytes(result.get_data()), headers, int(result.status_code)
    raise TypeError(
        "The view function did not return a valid response. The return type must be a string, "
        f"dict, list, tuple with headers or status, or Response, but it was a {type(result)}."
    )


def _header_pairs(value: Any) -> list[tuple[str, str]]:
    pairs = value.items() if isinstance(value, dict) else value
    return [(str(k), str(v)) for k, v in pairs]


def rejected(status: int, message: str) -> bytes:
    """A response envelope for a request the function never saw."""
    headers = [("Content-Type", "text/plain; charset=utf-8")]
    return encode_response(status, headers, message.encode())


# -- CloudEvents ------------------------------------------------------------------------------


class NotACloudEvent(ValueError):
    pass


_REQUIRED = ("id", "source", "type", "specversion")


def cloud_event(envelope: EnvelopeRequest) -> Any:
    """The ``cloudevents.http.CloudEvent`` in a request, binary or structured mode."""
    from cloudevents.http import CloudEvent  # imported by the first cloudevent invocation

    headers = {k.lower(): v for k, v in envelope.headers}
    content_type = headers.get("content-type", "")
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime == "application/cloudevents+json":
        try:
            document = json.loads(envelope.body)
        except ValueError as error:
            raise NotACloudEvent(f"the structured CloudEvent is not JSON: {error}") from None
        if not isinstance(document, dict):
            raise NotACloudEvent("the structured CloudEvent is not a JSON object")
        attributes = {k: v for k, v in document.items() if k not in ("data", "data_base64")}
        if "data_base64" in document:
            try:
                data: Any = base64.b64decode(document["data_base64"], validate=True)
            except (ValueError, TypeError) as error:
                raise NotACloudEvent(f"data_base64 is not base64: {error}") from None
        else:
            data = document.get("data")
    elif mime == "application/cloudevents-batch+json":
        raise NotACloudEvent("batched CloudEvents are not supported by a single function")
    else:
        attributes = {k[3:]: v for k, v in headers.items() if k.startswith("ce-")}
        if content_type:
            attributes["datacontenttype"] = content_type
        data = _binary_data(mime, envelope.body)
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise NotACloudEvent(f"missing required CloudEvent attributes: {', '.join(missing)}")
    if attributes["specversion"] != "1.0":
        raise NotACloudEvent(f"unsupported specversion {attributes['specversion']!r} (1.0 only)")
    return CloudEvent(attributes, data)


def _binary_data(mime: str, body: bytes) -> Any:
    """Binary mode data: JSON when it is JSON (declared or undeclared, as the CloudEvents SDK
    reads it), text for text types, bytes otherwise."""
    if not body:
        return None
    if not mime or mime == JSON_TYPE or mime.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError:
            pass
    if mime.startswith("text/") or mime in ("application/xml",) or mime.endswith("+xml"):
        try:
            return body.decode()
        except UnicodeDecodeError:
            return body
    return body
