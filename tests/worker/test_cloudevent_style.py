"""CloudEvent style functions (``style: cloudevent``) in real instances through the invoker:
events in binary and structured mode, made by the CloudEvents SDK, malformed events refused with
400 before the function runs, errors, async handlers and functions-framework's decorator."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from skylet.invoker.invoker import Invoker
from skylet.invoker.results import InvocationResult
from tests.runtime_fixtures import fn, requirements_dir, running
from tests.worker.http_client import answer, envelope

pytestmark = pytest.mark.anyio

URL = "http://h/"


@pytest.fixture(scope="module")
async def invoker() -> AsyncIterator[Invoker]:
    functions = [
        fn(name, f"http_handlers.{name}", style="cloudevent")
        for name in ("event_log", "async_event", "event_raises")
    ]
    async with running(functions) as invoker:
        yield invoker


def seen(result: InvocationResult, marker: str = "EVENT ") -> dict[str, Any]:
    """What the function printed about the event it received."""
    line = next(line for line in result.log.splitlines() if line.startswith(marker))
    return dict(json.loads(line[len(marker) :]))


def event(data: Any, **attributes: str) -> CloudEvent:
    base = {"type": "com.example.made", "source": "/tests", "id": "e-1"}
    return CloudEvent({**base, **attributes}, data)


async def test_a_binary_mode_event_with_json_data(invoker: Invoker) -> None:
    attributes = {"subject": "s", "myext": "x", "datacontenttype": "application/json"}
    headers, body = to_binary(event({"n": 1}, id="bin-1", **attributes))
    assert headers["content-type"] == "application/json"
    result = await invoker.invoke("event_log", envelope("POST", URL, headers=headers, content=body))
    status, response_headers, response_body = answer(result)
    assert (status, response_body) == (200, b"OK")  # functions-framework's answer
    assert response_headers["content-type"] == ["text/html; charset=utf-8"]
    got = seen(result)
    assert got["attributes"] == {
        "specversion": "1.0",
        "type": "com.example.made",
        "source": "/tests",
        "id": "bin-1",
        "subject": "s",
        "myext": "x",
        "datacontenttype": "application/json",
    }
    assert (got["data"], got["kind"], got["has_time"]) == ({"n": 1}, "dict", True)


@pytest.mark.parametrize(
    ("content_type", "body", "data", "kind"),
    [
        ("text/plain; charset=utf-8", "héllo".encode(), "héllo", "str"),
        ("application/octet-stream", b"\x00\xff\n", {"base64": "AP8K"}, "bytes"),
        ("application/json", b"[1, 2]", [1, 2], "list"),
        ("application/json", b"{not json", {"base64": "e25vdCBqc29u"}, "bytes"),
        (None, b"", None, "NoneType"),
    ],
    ids=["text_is_str", "octets_are_bytes", "json_is_parsed", "bad_json_stays_bytes", "empty"],
)
async def test_binary_mode_data_follows_the_content_type(
    invoker: Invoker, content_type: str | None, body: bytes, data: Any, kind: str
) -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "b", "ce-source": "/s", "ce-type": "t"}
    if content_type is not None:
        headers["content-type"] = content_type
    payload = envelope("POST", URL, headers=headers, content=body)
    result = await invoker.invoke("event_log", payload)
    assert answer(result)[0] == 200
    got = seen(result)
    assert (got["data"], got["kind"]) == (data, kind)


async def test_a_structured_mode_event(invoker: Invoker) -> None:
    attributes = {"time": "2024-01-02T03:04:05Z", "datacontenttype": "application/json"}
    headers, body = to_structured(event({"k": "v"}, id="str-1", **attributes))
    result = await invoker.invoke("event_log", envelope("POST", URL, headers=headers, content=body))
    assert answer(result)[0] == 200
    got = seen(result)
    assert got["attributes"]["id"] == "str-1"
    assert got["attributes"]["datacontenttype"] == "application/json"
    assert (got["data"], got["kind"], got["has_time"]) == ({"k": "v"}, "dict", True)


async def test_a_structured_mode_event_with_binary_data(invoker: Invoker) -> None:
    raw = bytes(range(256))
    headers, body = to_structured(event(raw, id="b64-1"))
    assert b"data_base64" in body
    result = await invoker.invoke("event_log", envelope("POST", URL, headers=headers, content=body))
    got = seen(result)
    assert (base64.b64decode(got["data"]["base64"]), got["kind"]) == (raw, "bytes")


def _structured(document: dict[str, Any]) -> dict[str, Any]:
    return {"headers": {"content-type": "application/cloudevents+json"}, "json": document}


GOOD = {"specversion": "1.0", "id": "x", "source": "/s", "type": "t"}
MALFORMED = [
    ({"json": {"just": "json"}}, "missing required CloudEvent attributes: specversion"),
    ({"content": b"plain text"}, "no ce-specversion header"),
    (
        {"headers": {"ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t"}},
        "missing required CloudEvent attributes: id",
    ),
    (
        {"headers": {"ce-specversion": "0.3", "ce-id": "i", "ce-source": "/s", "ce-type": "t"}},
        "unsupported specversion &#39;0.3&#39; (1.0 only)",
    ),
    (_structured({**GOOD, "type": ""}), "must be non-empty strings: type"),
    (_structured({**GOOD, "id": 7}), "must be non-empty strings: id"),
    (_structured({**GOOD, "data_base64": "!!"}), "data_base64 is not base64"),
    (_structured({**GOOD, "data": 1, "data_base64": "AA=="}), "both data and data_base64"),
    (
        {"headers": {"content-type": "application/cloudevents+json"}, "content": b"{"},
        "the structured CloudEvent is not JSON",
    ),
    (
        {"headers": {"content-type": "application/cloudevents-batch+json"}, "json": [GOOD]},
        "batched CloudEvents are not supported",
    ),
]


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    MALFORMED,
    ids=[
        "json_without_attributes",
        "not_json_no_headers",
        "binary_without_id",
        "old_specversion",
        "empty_type",
        "id_not_a_string",
        "bad_base64",
        "data_and_data_base64",
        "structured_not_json",
        "batch",
    ],
)
async def test_a_malformed_event_is_answered_400_without_calling_the_function(
    invoker: Invoker, request_kwargs: dict[str, Any], message: str
) -> None:
    result = await invoker.invoke("event_log", envelope("POST", URL, **request_kwargs))
    status, headers, body = answer(result)  # not a function error
    assert status == 400
    assert headers["content-type"] == ["text/html; charset=utf-8"]
    assert message in body.decode()
    assert "EVENT " not in result.log
    assert "[ERROR] Bad CloudEvent: " in result.log


async def test_an_exception_is_a_function_error(invoker: Invoker) -> None:
    headers, body = to_binary(event({"n": 1}, id="boom-1"))
    payload = envelope("POST", URL, headers=headers, content=body)
    result = await invoker.invoke("event_raises", payload)
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "could not handle boom-1"
    assert "[ERROR] RuntimeError: could not handle boom-1" in result.log


async def test_async_handlers_are_awaited(invoker: Invoker) -> None:
    headers, body = to_binary(event("hi", id="async-1"))
    payload = envelope("POST", URL, headers=headers, content=body)
    result = await invoker.invoke("async_event", payload)
    assert answer(result)[2] == b"OK"
    assert seen(result, "ASYNC EVENT ")["attributes"]["id"] == "async-1"


async def test_a_functions_framework_cloud_event_function_runs_unchanged() -> None:
    pytest.importorskip(
        "functions_framework",
        reason="functions-framework is not installed (pip install -e '.[test]')",
    )
    deps = (requirements_dir("functions-framework"),)
    config = fn(
        "ffe", "ff_handlers.hello_event", style="cloudevent", timeout_s=30.0, extra_path=deps
    )
    headers, body = to_binary(event({"x": 1}, id="ff-1", type="com.example.ff"))
    async with running([config]) as invoker:
        result = await invoker.invoke("ffe", envelope("POST", URL, headers=headers, content=body))
    status, _, response = answer(result)
    assert (status, response) == (200, b"OK")
    assert "FF EVENT com.example.ff ff-1 {'x': 1}" in result.log
