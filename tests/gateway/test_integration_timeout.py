"""API Gateway stops waiting for a Lambda integration after 29 s (REST) or 30 s (HTTP API) and
answers its timeout error; the function runs on, and its invocation is recorded when it ends.
Real instances behind the routes, driven through ASGI with the limit shortened."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from skylet.gateway.http_routes import INTEGRATION_TIMEOUT_S, FunctionRoutes
from skylet.gateway.routing import Kind, Route, RouteTable
from tests.runtime_fixtures import fn, running

pytestmark = pytest.mark.anyio


async def get(routes: FunctionRoutes, path: str) -> tuple[int, dict[str, str], bytes]:
    path, _, query = path.partition("?")
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1234),
        "server": ("127.0.0.1", 9000),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    found = routes.find(scope)
    assert found is not None
    await routes.serve(scope, receive, send, found)
    headers = {k.decode().lower(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, sent[1]["body"]


def test_the_limits_are_api_gateways() -> None:
    assert INTEGRATION_TIMEOUT_S == {"rest": 29.0, "http_api": 30.0}


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("http_api", 503, b'{"message":"Service Unavailable"}'),
        ("rest", 504, b'{"message": "Endpoint request timed out"}'),
    ],
)
async def test_a_function_slower_than_the_api_gets_its_timeout_answer_and_runs_on(
    kind: Kind, status: int, body: bytes
) -> None:
    function = fn("slow", "web_handlers.shaped", timeout_s=10.0)
    async with running([function]) as invoker:
        routes = FunctionRoutes(invoker)
        routes.update(RouteTable([Route("GET", "/slow", "slow", kind)]), service="t", stage="dev")
        routes.integration_timeout_s[kind] = 0.3
        started = time.monotonic()
        answered = await get(routes, "/slow?kind=slow&seconds=1")
        took = time.monotonic() - started
        assert answered[0] == status
        assert answered[2] == body
        assert 0.3 <= took < 0.9
        assert invoker.logs.entries("slow") == []  # still running
        deadline = time.monotonic() + 5
        while not invoker.logs.entries("slow"):
            assert time.monotonic() < deadline, "the invocation was never recorded"
            await asyncio.sleep(0.05)
        (entry,) = invoker.logs.entries("slow")
        assert "Status: timeout" not in entry.text  # it finished within its own timeout
        # Its slot was given back: the next request runs at once on the same instance.
        routes.integration_timeout_s[kind] = 30.0
        again = await get(routes, "/slow?kind=default")
        assert again[0] == 200
        assert again[2] == b"ok"
        assert invoker.stats("slow").instances == 1


async def test_a_function_whose_own_timeout_is_shorter_answers_with_it() -> None:
    # Its timeout fires first: the API's wait does not apply (and costs the request nothing).
    function = fn("slow", "web_handlers.shaped", timeout_s=0.5)
    async with running([function]) as invoker:
        routes = FunctionRoutes(invoker)
        routes.update(
            RouteTable([Route("GET", "/slow", "slow", "http_api")]), service="t", stage="dev"
        )
        routes.integration_timeout_s["http_api"] = 1.0
        status, _, body = await get(routes, "/slow?kind=slow&seconds=3")
        assert status == 503
        assert body == b'{"message":"Service Unavailable"}'
        assert "Status: timeout" in invoker.logs.entries("slow")[0].text
