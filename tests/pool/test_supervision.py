"""The zygote supervised, with real processes: when it dies, what it held is accounted for, a new
one starts at once, and every function serves again; one that cannot start is retried."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from skylet.invoker.invoker import Invoker
from tests.runtime_fixtures import (
    alive,
    descendants,
    describe,
    fn,
    instance_pids,
    running,
    started_below,
    until,
)

pytestmark = pytest.mark.anyio


def _zygote_pid(invoker: Invoker) -> int:
    pid = invoker._zygote.pid
    assert pid is not None
    return pid


async def test_a_killed_zygote_is_replaced_and_in_flight_work_fails_at_once() -> None:
    functions = [
        fn("sleep", "handlers.sleep", timeout_s=60.0),
        fn("echo", "handlers.echo"),
        fn("spawn", "handlers.spawn_child"),
    ]
    async with running(functions) as invoker:
        await invoker.invoke("echo", b"{}")
        assert (await invoker.invoke("spawn", b"{}")).function_error is None
        child = started_below(instance_pids(invoker, "spawn")[0], "sleep 300")
        old = _zygote_pid(invoker)
        family = descendants(old)
        assert child in family
        sleeping = asyncio.ensure_future(invoker.invoke("sleep", b'{"seconds": 50}'))
        await asyncio.sleep(0.2)
        started = time.monotonic()
        # As the OOM killer may: a function cannot (tests/e2e/test_sandbox.py).
        os.kill(old, signal.SIGKILL)
        failed = await asyncio.wait_for(sleeping, 5.0)
        error = json.loads(failed.payload)
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"].endswith(
            "Runtime exited with error: signal: killed "
            "(skylet's zygote process died, and is being restarted)"
        )
        again = await invoker.invoke("echo", b"{}")
        took = time.monotonic() - started
        assert again.function_error is None and again.cold
        assert invoker.runtime() == ("up", 1)
        assert _zygote_pid(invoker) != old
        await until(lambda: not any(alive(pid) for pid in family))
        print(f"killed to served again: {took * 1000:.0f} ms")
        assert took < 5.0, "every later invocation waited for its timeout"


async def test_the_runtime_says_it_is_restarting_until_the_new_zygote_is_up() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        os.kill(_zygote_pid(invoker), signal.SIGKILL)
        await until(lambda: invoker.runtime().status != "up")
        assert invoker.runtime() == ("restarting", 0)
        pending = asyncio.ensure_future(invoker.invoke("echo", b"{}"))  # waits, not fails
        await until(lambda: invoker.runtime().status == "up")
        assert (await pending).function_error is None
        assert invoker.runtime() == ("up", 1)


async def test_provisioned_instances_of_a_dead_zygote_are_replaced() -> None:
    async with running([fn("warm", "handlers.echo", provisioned_concurrency=2)]) as invoker:
        await until(lambda: invoker.stats("warm").idle == 2)
        old = descendants(_zygote_pid(invoker))
        os.kill(_zygote_pid(invoker), signal.SIGKILL)
        await until(lambda: invoker.runtime().status == "up")
        await until(lambda: invoker.stats("warm").idle == 2 and not any(alive(pid) for pid in old))
        result = await invoker.invoke("warm", b"{}")
        assert not result.cold
        assert [describe(pid) for pid in old if alive(pid)] == []


async def test_a_zygote_that_cannot_start_is_retried_and_cold_starts_fail_meanwhile() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        zygote = invoker._zygote
        python = zygote._python
        zygote._python = "/bin/false"  # every new zygote exits at once
        os.kill(_zygote_pid(invoker), signal.SIGKILL)
        await until(lambda: invoker.runtime().status == "down")
        started = time.monotonic()
        result = await invoker.invoke("echo", b"{}")
        assert time.monotonic() - started < 1.0
        message = json.loads(result.payload)["errorMessage"]
        assert "Runtime failed to start: the zygote exited as it started" in message
        zygote._python = python
        await until(lambda: invoker.runtime().status == "up")
        assert (await invoker.invoke("echo", b"{}")).function_error is None
