"""A real platform for the dispatcher tests: zygote, invoker, store, records, dispatcher."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skylet.config import AsyncConfig, FunctionConfig, RuntimeSettings
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.context import DispatcherSettings
from skylet.events.dispatcher import Dispatcher
from skylet.events.records import RecordBook
from skylet.events.retry import RetryPolicy
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygote import ZygoteClient
from skylet.store.base import Clock, Store

#: Lambda's policy with its waits shortened 300 times, and short leases and polls.
FAST = DispatcherSettings(
    batch_size=50,
    max_concurrency=4,
    lease_s=3.0,
    poll_s=0.2,
    running_after_s=0.2,
    retry=RetryPolicy(
        function_error_delays_s=(0.2, 0.4), throttle_first_s=0.05, throttle_max_s=0.2
    ),
)


@dataclass
class Harness:
    store: Store
    invoker: Invoker
    records: RecordBook
    async_invoker: AsyncInvoker
    dispatcher: Dispatcher


def function(
    code_dir: Path, name: str, handler: str, out: Path, **overrides: Any
) -> FunctionConfig:
    """A function over ``code_dir/handlers.py`` whose calls go to ``out``."""
    settings: dict[str, Any] = {"timeout_s": 5.0, **overrides}
    return FunctionConfig(
        name=name,
        handler=f"handlers.{handler}",
        code_dir=code_dir,
        environment=MappingProxyType({"OUT": str(out)}),
        **settings,
    )


@asynccontextmanager
async def platform(
    store: Store,
    functions: list[FunctionConfig],
    configs: Mapping[str, AsyncConfig] | None = None,
    *,
    settings: DispatcherSettings = FAST,
    now: Clock = time.time,
) -> AsyncIterator[Harness]:
    """Everything the dispatcher needs, running; ``configs`` defaults to Lambda's defaults for
    every function."""
    # The handlers record their calls in a file the test reads, which a sandbox's private /tmp
    # would keep to itself; sandboxes have tests of their own (tests/e2e/test_sandbox.py).
    zygote = ZygoteClient(policy=SandboxPolicy(enabled=False))
    await zygote.start()
    invoker = Invoker(RuntimeSettings(sandbox=False), zygote, LogBook())
    records = RecordBook(store, now=now)
    async_invoker = AsyncInvoker(store, records, invoker, now=now)
    dispatcher = Dispatcher(store, invoker, async_invoker, records, settings=settings, now=now)
    try:
        await invoker.deploy(functions)
        await dispatcher.start()
        if configs is None:
            configs = {fn.name: AsyncConfig() for fn in functions}
        await dispatcher.deploy(configs)
        yield Harness(store, invoker, records, async_invoker, dispatcher)
    finally:
        await dispatcher.aclose(grace_s=2.0)
        await async_invoker.aclose()
        await invoker.aclose(grace_s=1.0)
        await zygote.aclose()


def calls(out: Path) -> list[dict[str, Any]]:
    """The JSON lines the handlers wrote to ``out``."""
    if not out.exists():
        return []
    return [json.loads(line) for line in out.read_text().splitlines() if line]


async def wait_until(check: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {check}")
        await asyncio.sleep(0.02)
