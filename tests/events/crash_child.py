"""A dispatcher for the ``kill -9`` test: ``python -m tests.events.crash_child DB CODE OUT``.

Consumes function ``append`` (``handlers.sink``, which appends each request id to OUT) from the
SQLite store DB until its queue is empty and nothing is held, then exits 0. Leases are short so
that events held by a killed predecessor come back quickly.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from types import MappingProxyType

from skylet.events import AsyncConfig
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.context import DispatcherSettings
from skylet.events.dispatcher import Dispatcher
from skylet.events.envelope import queue_name
from skylet.events.records import RecordBook
from skylet.functions import FunctionConfig, RuntimeSettings
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.zygote import ZygoteClient
from skylet.store.sqlite import SqliteStore

FUNCTION = "append"
SETTINGS = DispatcherSettings(batch_size=100, max_concurrency=8, lease_s=1.5, poll_s=0.1)


def append_function(code: Path, out: Path) -> FunctionConfig:
    return FunctionConfig(
        name=FUNCTION,
        handler="handlers.sink",
        code_dir=code,
        environment=MappingProxyType({"OUT": str(out)}),
    )


async def main(db: Path, code: Path, out: Path) -> None:
    store = SqliteStore(db, recheck_s=0.1)
    await store.start()
    zygote = ZygoteClient()
    await zygote.start()
    invoker = Invoker(RuntimeSettings(), zygote, LogBook())
    await invoker.deploy([append_function(code, out)])
    records = RecordBook(store)
    async_invoker = AsyncInvoker(store, records, invoker)
    dispatcher = Dispatcher(store, invoker, async_invoker, records, settings=SETTINGS)
    await dispatcher.start()
    await dispatcher.deploy({FUNCTION: AsyncConfig()})
    print("ready", flush=True)
    while True:
        await asyncio.sleep(0.1)
        stats = await store.queue_stats(queue_name(FUNCTION))
        if stats.visible + stats.in_flight + stats.delayed == 0 and dispatcher.held() == 0:
            break
    await dispatcher.aclose()
    await invoker.aclose()
    await zygote.aclose()
    await store.aclose()


if __name__ == "__main__":
    asyncio.run(main(*(Path(arg) for arg in sys.argv[1:4])))
