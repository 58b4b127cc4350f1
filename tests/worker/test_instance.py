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


async def test_a_function_that_closes_stdout_and_stderr_still_answers_and_is_logged() -> None:
    functions = [fn("closer", "handlers.close_output"), fn("raiser", "handlers.close_output")]
    async with running(functions) as invoker:
        answered = await invoker.invoke("closer", b"{}")
        failed = await invoker.invoke("raiser", b'{"raise": true}')
        # Its own next print fails (fd 1 is closed, as on Lambda); the runtime still answers.
        again = await invoker.invoke("closer", b"{}")
    assert json.loads(answered.payload) == "answered with both closed"
    assert "to stdout" in answered.log and "to stderr" in answered.log
    assert json.loads(failed.payload)["errorMessage"] == "raised with both closed"
    assert "[ERROR] ValueError: raised with both closed" in failed.log
    assert json.loads(again.payload)["errorType"] == "OSError"
    assert not again.cold
