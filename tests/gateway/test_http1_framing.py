"""The HTTP/1.1 server's pure framing: which header blocks the direct path writes, Connection:
close, an ASGI response's head, the Date line, the server's own answers."""

from __future__ import annotations

import pytest

from skylet.gateway.http1.framing import (
    STATUS_LINES,
    Head,
    HttpDate,
    closes,
    plain,
    response_head,
    sendable,
)


@pytest.mark.parametrize(
    ("block", "ok"),
    [
        ("", True),
        ("content-length: 2\r\nx-a: b\r\n", True),
        ("x-tab: a\tb\r\n", True),
        ("x-a: b", False),
        ("x-a: b\r\n\r\nHTTP/1.1 200 OK\r\n", False),
        ("\r\nx-a: b\r\n", False),
        ("x-a: b\nx-c: d\r\n", False),
        ("x-a: b\rx-c: d\r\n", False),
        ("x-a: b\x00\r\n", False),
        ("x-a: b\x1b\r\n", False),
        (": b\r\n", False),
        ("x a: b\r\n", False),
        ("x-a\r\n", False),
        ("content-length: 2\r\nTransfer-Encoding: chunked\r\n", False),
        ("x-transfer-encoding: chunked\r\n", True),
    ],
    ids=[
        "no_headers",
        "whole_lines",
        "a_tab_in_a_value",
        "a_line_without_its_end",
        "an_empty_line_that_would_end_the_head",
        "an_empty_first_line",
        "a_bare_line_feed",
        "a_bare_carriage_return",
        "a_nul",
        "an_escape",
        "a_line_without_a_name",
        "a_name_that_is_not_a_token",
        "a_line_without_a_colon",
        "a_transfer_encoding_beside_the_length",
        "a_header_named_like_it",
    ],
)
def test_only_whole_header_lines_are_written(block: str, ok: bool) -> None:
    assert sendable(block) is ok


@pytest.mark.parametrize(
    ("block", "close"),
    [
        ("Connection: close\r\n", True),
        ("connection: keep-alive, Close\r\n", True),
        ("content-length: 0\r\nCONNECTION:close\r\n", True),
        ("connection: keep-alive\r\n", False),
        ("x-connection: close\r\n", False),
        ("x-a: b\r\n", False),
    ],
    ids=[
        "close",
        "close_among_tokens",
        "no_space_after_the_colon",
        "keep_alive",
        "another_header",
        "no_connection_header",
    ],
)
def test_a_functions_connection_close_is_honoured(block: str, close: bool) -> None:
    assert closes(block) is close


@pytest.mark.parametrize(
    ("status", "headers", "method", "head"),
    [
        (
            200,
            [(b"Content-Length", b"5"), (b"X-A", b"b")],
            "GET",
            Head(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nx-a: b\r\n", 5, False, False),
        ),
        (200, [], "GET", Head(b"HTTP/1.1 200 OK\r\n", None, False, False)),
        (
            200,
            [(b"transfer-encoding", b"chunked")],
            "GET",
            Head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n", None, True, False),
        ),
        (
            200,
            [(b"connection", b"Close")],
            "GET",
            Head(b"HTTP/1.1 200 OK\r\nconnection: Close\r\n", None, False, True),
        ),
        (200, [], "HEAD", Head(b"HTTP/1.1 200 OK\r\n", 0, False, False)),
        (204, [], "GET", Head(b"HTTP/1.1 204 No Content\r\n", 0, False, False)),
        (599, [], "GET", Head(b"HTTP/1.1 599 \r\n", None, False, False)),
    ],
    ids=[
        "a_length_and_lower_cased_names",
        "no_length_is_left_to_the_server",
        "chunked_by_the_application",
        "connection_close_by_the_application",
        "head_without_a_length_has_no_body",
        "no_content_has_no_body",
        "a_status_without_a_phrase",
    ],
)
def test_an_asgi_response_head_is_framed(
    status: int, headers: list[tuple[bytes, bytes]], method: str, head: Head
) -> None:
    assert response_head(status, headers, method) == head


@pytest.mark.parametrize(
    ("status", "headers"),
    [
        (600, []),
        ("200", []),
        (200, [(b"x a", b"b")]),
        (200, [(b"x-a", b"b\r\nx-injected: 1")]),
        (200, [(b"content-length", b"five")]),
    ],
    ids=[
        "a_status_past_599",
        "a_status_that_is_not_an_integer",
        "a_name_that_is_not_a_token",
        "a_value_that_would_add_a_header",
        "a_length_that_is_not_a_number",
    ],
)
def test_an_asgi_response_head_http_cannot_carry_is_refused(
    status: object, headers: list[tuple[bytes, bytes]]
) -> None:
    with pytest.raises(RuntimeError):
        response_head(status, headers, "GET")


def test_the_date_line_is_made_again_only_when_the_second_changes() -> None:
    now = [784111777.2]
    date = HttpDate(lambda: now[0])
    first = date.line()
    assert first == b"date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    now[0] = 784111777.9
    assert date.line() is first
    now[0] = 784111778.0
    assert date.line() == b"date: Sun, 06 Nov 1994 08:49:38 GMT\r\n"


def test_the_servers_own_answers_close_the_connection() -> None:
    answer = plain(431, "Request Header Fields Too Large", b"date: x\r\n")
    assert answer == (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\ndate: x\r\n"
        b"content-type: text/plain; charset=utf-8\r\ncontent-length: 31\r\n"
        b"connection: close\r\n\r\nRequest Header Fields Too Large"
    )
    assert STATUS_LINES[404] == b"HTTP/1.1 404 Not Found\r\n"
