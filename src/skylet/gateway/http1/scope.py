"""A request's ASGI scope from what the parser read, and the server's own refusals of a request
head (a status and its reason phrase)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import httptools

from skylet.asgi import Scope

REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class Refused(Exception):
    """A request head past a limit, or unreadable: answered with ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def request_scope(
    parser: httptools.HttpRequestParser,
    url: bytes,
    headers: list[tuple[bytes, bytes]],
    conn: tuple[tuple[str, int] | None, tuple[str, int] | None, str],
) -> Scope:
    """The scope uvicorn would give (``conn``: the server's and client's addresses and the
    scheme); raises Refused(400) for a path that is not ASCII."""
    parsed = httptools.parse_url(url)
    raw_path: bytes = parsed.path or b"/"
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        raise Refused(400) from None
    if "%" in path:
        path = unquote(path)
    server, client, scheme = conn
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": parser.get_http_version(),
        "server": server,
        "client": client,
        "scheme": scheme,
        "method": parser.get_method().decode("ascii"),
        "root_path": "",
        "path": path,
        "raw_path": raw_path,
        "query_string": parsed.query or b"",
        "headers": headers,
    }


def address(info: Any) -> tuple[str, int] | None:
    """A socket address as ASGI gives it: (host, port), for IPv4 and IPv6 alike."""
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None
