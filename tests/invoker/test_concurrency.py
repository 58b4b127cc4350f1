"""Lambda's concurrency model with real instances: one instance per concurrent invocation,
reserved concurrency, the platform-wide limit, provisioned instances, idle reaping."""

from __future__ import annotations

import asyncio
import json
import os
import time

import pytest

from skylet.config import RuntimeSettings
from skylet.errors import TooManyRequests
from skylet.invoker.admission import ACCOUNT_LIMIT, RESERVED_LIMIT
from tests.runtime_fixtures import alive, descendants, fn, instance_pids, running

pytestmark = pytest.mark.anyio


async def test_concurrent_invocations_each_get_their_own_instance() -> None:
    async with running([fn("sleep", "handlers.sleep")]) as invoker:
        results = await asyncio.gather(
            *(invoker.invoke("sleep", b'{"seconds": 0.3}') for _ in range(4))
        )
        assert invoker.stats("sleep").instances == 4
    assert all(r.cold for r in results)


async def test_reserved_concurrency_throttles_past_the_cap_at_once() -> None:
    async with running([fn("sleep", "handlers.sleep", reserved_concurrency=2)]) as invoker:
        running_now = [
            asyncio.ensure_future(invoker.invoke("sleep", b'{"seconds": 0.5}')) for _ in range(2)
        ]
        await asyncio.sleep(0.1)
        started = time.monotonic()
        with pytest.raises(TooManyRequests) as refused:
            await invoker.invoke("sleep", b'{"seconds": 0}')
        assert time.monotonic() - started < 0.1
        await asyncio.gather(*running_now)
        after = await invoker.invoke("sleep", b'{"seconds": 0}')
    assert refused.value.reason == RESERVED_LIMIT
    assert refused.value.message == "Rate Exceeded."
    assert after.function_error is None


async def test_reserved_concurrency_zero_disables_the_function() -> None:
    async with running([fn("echo", "handlers.echo", reserved_concurrency=0)]) as invoker:
        with pytest.raises(TooManyRequests) as refused:
            await invoker.invoke("echo", b"{}")
    assert refused.value.reason == RESERVED_LIMIT


async def test_platform_limit_is_shared_by_unreserved_functions() -> None:
    functions = [
        fn("a", "handlers.sleep"),
        fn("b", "handlers.sleep"),
        fn("r", "handlers.sleep", reserved_concurrency=1),
    ]
    async with running(functions, RuntimeSettings(max_concurrency=3)) as invoker:
        busy = [asyncio.ensure_future(invoker.invoke(name, b'{"seconds": 0.4}')) for name in "ab"]
        await asyncio.sleep(0.1)
        with pytest.raises(TooManyRequests) as refused:
            await invoker.invoke("a", b'{"seconds": 0}')
        reserved_still_runs = await invoker.invoke("r", b'{"seconds": 0}')
        await asyncio.gather(*busy)
    assert refused.value.reason == ACCOUNT_LIMIT
    assert reserved_still_runs.function_error is None


async def test_provisioned_instances_are_warm_before_the_first_request_and_never_reaped() -> None:
    config = fn("echo", "handlers.echo", provisioned_concurrency=2)
    async with running([config], RuntimeSettings(keepalive_s=0.0)) as invoker:
        for _ in range(500):
            if invoker.status("echo").state.state == "Active":
                break
            await asyncio.sleep(0.01)
        stats = invoker.stats("echo")
        assert stats.instances == 2 and stats.idle == 2
        result = await invoker.invoke("echo", b"{}")
        assert not result.cold
        assert json.loads(result.payload)["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == (
            "provisioned-concurrency"
        )
        assert invoker.reap() == 0
        assert invoker.stats("echo").instances == 2


async def test_idle_instances_are_reaped_after_the_keepalive() -> None:
    async with running([fn("echo", "handlers.echo")], RuntimeSettings(keepalive_s=0.2)) as inv:
        await inv.invoke("echo", b"{}")
        (first,) = instance_pids(inv, "echo")
        assert inv.reap() == 0
        await asyncio.sleep(0.25)
        assert inv.reap() == 1
        assert inv.stats("echo").instances == 0
        for _ in range(50):
            if not alive(first):
                break
            await asyncio.sleep(0.02)
        assert not alive(first)
        again = await inv.invoke("echo", b"{}")
    assert again.cold


async def test_shutdown_lets_in_flight_work_finish_and_leaves_no_process() -> None:
    functions = [fn("sleep", "handlers.sleep"), fn("spawn", "handlers.spawn_child")]
    async with running(functions) as invoker:
        zygote_pid = invoker._zygote.pid
        assert zygote_pid is not None
        await invoker.invoke("spawn", b"{}")
        in_flight = asyncio.ensure_future(invoker.invoke("sleep", b'{"seconds": 0.3}'))
        await asyncio.sleep(0.05)
        tree = descendants(zygote_pid)
        assert len(tree) >= 3  # spares, the sleeper, the spawner and its child
        await invoker.aclose(grace_s=5.0)
        result = await in_flight
    assert json.loads(result.payload) == "woke"
    for _ in range(100):
        if not any(alive(pid) for pid in [zygote_pid, *tree]):
            break
        await asyncio.sleep(0.02)
    assert [pid for pid in [zygote_pid, *tree] if alive(pid)] == []
    assert descendants(os.getpid()) == []
