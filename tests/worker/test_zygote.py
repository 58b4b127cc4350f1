"""The zygote with real processes: what functions leave behind does not outlive its instance."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.runtime_fixtures import alive, describe, fn, instance_pids, running, started_below

pytestmark = pytest.mark.anyio


async def _gone(pid: int, within_s: float = 3.0) -> bool:
    for _ in range(int(within_s / 0.02)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.02)
    return not alive(pid)


async def test_a_double_forked_daemon_lives_with_its_instance_and_dies_when_it_retires() -> None:
    async with running([fn("daemon", "handlers.daemonize")]) as invoker:
        result = await invoker.invoke("daemon", b"{}")
        assert result.function_error is None
        (instance,) = instance_pids(invoker, "daemon")
        daemon = started_below(instance, "sleep 300")
        await asyncio.sleep(0.2)
        assert alive(daemon), "the daemon runs while its instance lives, as on Lambda"
        assert invoker.scale_to_zero("daemon") == 1
        assert await _gone(daemon), describe(daemon)


async def test_a_daemon_is_not_killed_when_another_instance_dies() -> None:
    functions = [fn("daemon", "handlers.daemonize"), fn("exit", "handlers.exit_now")]
    async with running(functions) as invoker:
        assert (await invoker.invoke("daemon", b"{}")).function_error is None
        daemon = started_below(instance_pids(invoker, "daemon")[0], "sleep 300")
        crashed = await invoker.invoke("exit", b'{"code": 2}')
        assert crashed.function_error == "Unhandled"
        await asyncio.sleep(0.3)
        assert alive(daemon), describe(daemon)


async def test_the_oom_killer_takes_instances_before_the_zygote() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        await invoker.invoke("echo", b"{}")
        (instance,) = instance_pids(invoker, "echo")
        zygote = invoker._zygote.pid
        assert Path(f"/proc/{instance}/oom_score_adj").read_text().strip() == "1000"
        own = Path("/proc/self/oom_score_adj").read_text()
        assert Path(f"/proc/{zygote}/oom_score_adj").read_text() == own  # unchanged
