"""HTTP/1.1 response framing: status lines, the Date header, which header blocks may be written,
and the head of an ASGI response. Pure, apart from the clock :class:`HttpDate` is given."""

from __future__ import annotations

import http
import re
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import NamedTuple

#: ``HTTP/1.1 <status> <phrase>\r\n`` for every status HTTP defines a range for; a status
#: without a registered phrase gets an empty one, as HTTP allows.
STATUS_LINES: dict[int, bytes] = {}
for _status in range(100, 600):
    try:
        _phrase = http.HTTPStatus(_status).phrase
    except ValueError:
        _phrase = ""
    STATUS_LINES[_status] = f"HTTP/1.1 {_status} {_phrase}\r\n".encode("ascii")

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"

#: A header block as the instance frames one: whole ``token: value`` lines, each ending in CRLF,
#: no other control character than a tab in a value, no Transfer-Encoding (see sendable).
_LINES = re.compile(
    r"(?:(?!(?i:transfer-encoding):)[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\x00-\x08\x0a-\x1f\x7f]*\r\n)*"
)
#: A ``Connection`` line of such a block, and its value.
_CONNECTION = re.compile(r"(?im)^connection:([^\r\n]*)\r$")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


class HttpDate:
    """The ``date`` header line of every response, made again once a second. ``clock`` gives
    the time in seconds since the epoch (``time.time``)."""

    __slots__ = ("_clock", "_line", "_second")

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._second = -1
        self._line = b""

    def line(self) -> bytes:
        second = int(self._clock())
        if second != self._second:
            self._second = second
            self._line = b"date: " + formatdate(second, usegmt=True).encode("ascii") + b"\r\n"
        return self._line


def sendable(block: str) -> bool:
    """Whether a header block is whole ``name: value`` lines that cannot end the response's
    head early: a token, a colon, a value without CR, LF or another control character (a tab
    is allowed), CRLF; no empty line, and no Transfer-Encoding beside the Content-Length. A
    well-behaved instance frames nothing else; this keeps a forged block from splitting the
    response or changing how its body is read."""
    return _LINES.fullmatch(block) is not None


def closes(block: str) -> bool:
    """Whether a (sendable) block has ``Connection: close``."""
    return any(_has_close(m.group(1).encode("latin-1")) for m in _CONNECTION.finditer(block))


def _has_close(value: bytes) -> bool:
    return b"close" in (token.strip() for token in value.lower().split(b","))


def plain(status: int, text: str, date: bytes, *, retry_after_s: int | None = None) -> bytes:
    """A whole ``text/plain`` response after which the connection closes (the server's own
    answers: a malformed request, a head too large or too slow, an application that failed, a
    connection past the cap, with ``retry_after_s``)."""
    body = text.encode("ascii")
    retry = b"" if retry_after_s is None else b"retry-after: %d\r\n" % retry_after_s
    return b"".join(
        (
            STATUS_LINES[status],
            date,
            retry,
            b"content-type: text/plain; charset=utf-8\r\ncontent-length: ",
            str(len(body)).encode("ascii"),
            b"\r\nconnection: close\r\n\r\n",
            body,
        )
    )


class Head(NamedTuple):
    """An ASGI response's head, checked, without the Date and the closing lines.

    ``lines``: the status line and the application's header lines (names lower-cased).
    ``length``: the body's length when the head fixes it (Content-Length; 0 for HEAD, 204 and
    304 without one), None when the body is chunked or ends with the connection.
    ``chunked``: the application's headers say Transfer-Encoding: chunked.
    ``closes``: they say Connection: close.
    """

    lines: bytes
    length: int | None
    chunked: bool
    closes: bool


def response_head(status: object, headers: Iterable[tuple[bytes, bytes]], method: str) -> Head:
    """Check an ``http.response.start`` message's status and headers and frame them; raises
    RuntimeError for what HTTP/1.1 cannot carry (a status outside 100-599, a header name that
    is not a token, a control character in a value, a Content-Length that is not a number)."""
    line = STATUS_LINES.get(status) if isinstance(status, int) else None
    if line is None:
        raise RuntimeError(f"an HTTP status must be an integer from 100 to 599, not {status!r}")
    parts = [line]
    length: int | None = None
    chunked = closing = False
    for name, value in headers:
        if _TOKEN.fullmatch(name) is None:
            raise RuntimeError(f"invalid HTTP header name {name!r}")
        if _BAD_VALUE.search(value) is not None:
            raise RuntimeError(f"invalid HTTP header value {value!r}")
        name = name.lower()
        if name == b"content-length":
            if not value.strip().isdigit():
                raise RuntimeError(f"invalid Content-Length {value!r}")
            if length is None:
                length = int(value)
        elif name == b"transfer-encoding":
            chunked = chunked or value.strip().lower() == b"chunked"
        elif name == b"connection":
            closing = closing or _has_close(value)
        parts += (name, b": ", value, b"\r\n")
    if chunked:
        length = None
    elif length is None and (method == "HEAD" or status in (204, 304)):
        length = 0
    return Head(b"".join(parts), length, chunked, closing)
