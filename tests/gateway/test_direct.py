"""The direct HTTP path's pure parts: which header blocks it will write, Connection: close, and
the fallback to uvicorn's own protocol (the wire behaviour: tests/e2e/test_http_connections)."""

from __future__ import annotations

import pytest
from uvicorn.protocols.http import httptools_impl

from skylet.gateway import direct
from skylet.gateway.direct import _closes, _sendable


@pytest.mark.parametrize(
    ("block", "sendable"),
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
def test_only_whole_header_lines_are_written(block: str, sendable: bool) -> None:
    assert _sendable(block) is sendable


@pytest.mark.parametrize(
    ("block", "closes"),
    [
        ("Connection: close\r\n", True),
        ("connection: keep-alive, Close\r\n", True),
        ("connection: keep-alive\r\n", False),
        ("x-connection: close\r\n", False),
    ],
    ids=["close", "close_among_tokens", "keep_alive", "another_header"],
)
def test_a_functions_connection_close_is_honoured(block: str, closes: bool) -> None:
    assert _closes(block) is closes


def test_an_incompatible_uvicorn_falls_back_to_its_own_protocol(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gateway = object()
    protocol = direct.protocol_class(gateway)  # type: ignore[arg-type]
    assert isinstance(protocol, type) and issubclass(protocol, direct.DirectProtocol)
    assert protocol.gateway is gateway
    monkeypatch.delattr(httptools_impl.HttpToolsProtocol, "_start_asgi_task")
    assert direct.protocol_class(gateway) == "httptools"
