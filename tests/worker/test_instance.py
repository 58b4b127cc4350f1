"""Inside an instance, with real processes: what the function does to its own process does not
cut the instance off from the platform."""

from __future__ import annotations

import json

import pytest

from tests.runtime_fixtures import fn, running

pytestmark = pytest.mark.anyio


async def test_a_result_arrives_after_the_function_closed_its_stdout() -> None:
    async with running([fn("closer", "handlers.close_stdout")]) as invoker:
        first = await invoker.invoke("closer", b"{}")
        second = await invoker.invoke("closer", b"{}")
    assert first.function_error is None, first.payload
    assert json.loads(first.payload) == "still answered"
    assert "before closing" in first.log
    assert not second.cold  # the instance lives on


async def test_an_error_after_the_function_closed_its_stdout_is_reported_and_logged() -> None:
    async with running([fn("closer", "handlers.close_stdout")]) as invoker:
        result = await invoker.invoke("closer", b'{"raise": true}')
    assert json.loads(result.payload)["errorMessage"] == "raised after closing"
    assert "[ERROR] ValueError: raised after closing" in result.log
