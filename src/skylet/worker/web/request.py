"""The request a Cloud Functions style function receives: the part of werkzeug's ``Request``
(what ``flask.request`` is) that such functions use, built from the HTTP envelope.

JSON follows Flask ≥ 2.3: ``get_json()`` and ``json`` raise 415 when the request is not JSON
(``silent=True``: None) and 400 when the body does not parse (``silent=True``: None);
``force=True`` parses whatever the content type. Everything is computed on first use.
"""

from __future__ import annotations

import io
import json
import sys
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, quote

from skylet.worker.http_envelope import EnvelopeRequest
from skylet.worker.web import forms
from skylet.worker.web.datastructures import Headers, MultiDict
from skylet.worker.web.errors import BadRequest, UnsupportedMediaType

_NOT_LOADED: Any = object()


class UserAgent(str):
    """The User-Agent header; ``.string`` as on werkzeug's ``UserAgent``."""

    __slots__ = ()

    @property
    def string(self) -> str:
        return str(self)


class Request:
    def __init__(self, envelope: EnvelopeRequest) -> None:
        self._envelope = envelope
        self._body = envelope.body
        self.method = envelope.method.upper()
        self.path = envelope.path
        self.root_path = envelope.root_path
        self.scheme = envelope.scheme
        self.host = envelope.host
        self.remote_addr = envelope.remote_addr
        self._json: list[Any] = [_NOT_LOADED, _NOT_LOADED]  # by ``silent``, as werkzeug caches

    # -- URL -----------------------------------------------------------------------------------

    @cached_property
    def query_string(self) -> bytes:
        return self._envelope.query.encode("latin-1", "replace")

    @cached_property
    def args(self) -> MultiDict:
        return MultiDict(parse_qsl(self._envelope.query, keep_blank_values=True))

    @property
    def script_root(self) -> str:
        return self.root_path

    @property
    def full_path(self) -> str:
        return f"{self.path}?{self._envelope.query}"

    @property
    def host_url(self) -> str:
        return f"{self.scheme}://{self.host}/"

    @property
    def url_root(self) -> str:
        return f"{self.scheme}://{self.host}{quote(self.root_path)}/"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}{quote(self.root_path)}{self._envelope.raw_path}"

    @property
    def url(self) -> str:
        query = self._envelope.query
        return self.base_url + (f"?{query}" if query else "")

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    @property
    def access_route(self) -> list[str]:
        """X-Forwarded-For's addresses when present, else the peer's."""
        forwarded = self.headers.get("x-forwarded-for")
        if forwarded:
            return [a.strip() for a in str(forwarded).split(",") if a.strip()]
        return [self.remote_addr]

    # -- headers -------------------------------------------------------------------------------

    @cached_property
    def headers(self) -> Headers:
        # werkzeug presents names from the WSGI environ: content-type → Content-Type.
        return Headers(
            ("-".join(p.capitalize() for p in k.split("-")), v) for k, v in self._envelope.headers
        )

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return None if value is None else str(value)

    @property
    def mimetype(self) -> str:
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        params = {}
        for part in (self.content_type or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip():
                params[key.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def content_length(self) -> int | None:
        """The Content-Length header; None when absent or invalid, as werkzeug gives it."""
        value = self.headers.get("content-length")
        if value is None or "chunked" in str(self.headers.get("transfer-encoding", "")).lower():
            return None
        return int(value) if str(value).strip().isdigit() else None

    @property
    def content_encoding(self) -> str | None:
        value = self.headers.get("content-encoding")
        return None if value is None else str(value)

    @property
    def user_agent(self) -> UserAgent:
        return UserAgent(self.headers.get("user-agent", ""))

    @property
    def origin(self) -> str | None:
        value = self.headers.get("origin")
        return None if value is None else str(value)

    @property
    def referrer(self) -> str | None:
        value = self.headers.get("referer")
        return None if value is None else str(value)

    @cached_property
    def cookies(self) -> MultiDict:
        """Cookies from every Cookie header; lenient, so one bad pair does not hide the rest."""
        pairs = []
        for header in self.headers.getlist("cookie"):
            for item in str(header).split(";"):
                name, sep, value = item.partition("=")
                if not sep or not name.strip():
                    continue
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
                pairs.append((name.strip(), value))
        return MultiDict(pairs)

    # -- body ----------------------------------------------------------------------------------

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        """The raw body (str when ``as_text``); with ``parse_form_data``, empty for a form, whose
        body werkzeug consumes into ``form``."""
        body = b"" if parse_form_data and self.mimetype in forms.FORM_TYPES else self._body
        return body.decode("utf-8", "replace") if as_text else body

    @property
    def data(self) -> bytes:
        """The raw body, except for form content types (read ``form``), as in werkzeug."""
        return bytes(self.get_data(parse_form_data=True))

    @property
    def stream(self) -> io.BytesIO:
        return io.BytesIO(self._body)

    @property
    def is_json(self) -> bool:
        mime = self.mimetype
        return mime == "application/json" or (
            mime.startswith("application/") and mime.endswith("+json")
        )

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The parsed body. Not JSON: 415 (None when ``silent``); bad JSON: 400 (None when
        ``silent``); ``force`` ignores the content type."""
        cached = self._json[silent]
        if cache and cached is not _NOT_LOADED:
            return cached
        if not (force or self.is_json):
            if silent:
                return None
            raise UnsupportedMediaType(
                "Did not attempt to load JSON data because the request Content-Type was not "
                "'application/json'."
            )
        try:
            value = json.loads(self._body)
        except ValueError as error:
            if silent:
                if cache:
                    self._json[True] = None
                return None
            raise BadRequest(f"Failed to decode JSON object: {error}") from None
        if cache:
            self._json = [value, value]
        return value

    @cached_property
    def _form_and_files(self) -> tuple[MultiDict, MultiDict]:
        return forms.parse(self.content_type, self._body)

    @property
    def form(self) -> MultiDict:
        return self._form_and_files[0]

    @property
    def files(self) -> MultiDict:
        return self._form_and_files[1]

    @property
    def values(self) -> MultiDict:
        """``args`` and, except for GET requests, ``form``, as werkzeug ≥ 2 combines them."""
        pairs = self.args.items(multi=True)
        if self.method != "GET":
            pairs += self.form.items(multi=True)
        return MultiDict(pairs)

    # -- WSGI ----------------------------------------------------------------------------------

    @cached_property
    def environ(self) -> dict[str, Any]:
        """A WSGI environ for code that reads one: CGI keys, ``HTTP_*`` headers, ``wsgi.*``."""
        host, _, port = self.host.rpartition(":") if ":" in self.host else (self.host, "", "")
        if not port.isdigit():  # no port, or an IPv6 address without one
            host, port = self.host, "443" if self.is_secure else "80"
        query = self._envelope.query
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": _wsgi_text(self.root_path),
            "PATH_INFO": _wsgi_text(self.path),
            "QUERY_STRING": query,
            "RAW_URI": self._envelope.raw_path + (f"?{query}" if query else ""),
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": self.remote_addr,
            "wsgi.url_scheme": self.scheme,
            "wsgi.input": self.stream,
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in self._envelope.headers:
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def __repr__(self) -> str:
        return f"<Request {self.url!r} [{self.method}]>"


def _wsgi_text(text: str) -> str:
    """WSGI's str: the UTF-8 bytes as latin-1 characters."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")
