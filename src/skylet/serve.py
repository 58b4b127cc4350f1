"""Serving: the platform behind the HTTP server until SIGINT/SIGTERM, then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Awaitable, Callable, Iterable

from skylet.build.watcher import ReloadOutcome, Watcher
from skylet.invoker.hooks import InvocationHook
from skylet.platform import Platform
from skylet.platform_config import PlatformConfig

#: Allocations between two collections of the youngest generation in the serving process.
GC_THRESHOLD = 20_000


async def serve(
    config: PlatformConfig,
    *,
    on_ready: Callable[[Platform], Awaitable[None]],
    on_reload: Callable[[ReloadOutcome], None] = lambda _: None,
    hooks: Iterable[InvocationHook] = (),
) -> signal.Signals:
    """Run the platform behind skylet's HTTP server until SIGINT/SIGTERM, then stop gracefully:
    in-flight requests finish (within the grace; a second signal cuts it short), then the
    platform retires instances and stops the zygote. ``on_ready`` runs once the listener is up
    (the console's banner). Returns the signal that stopped it (the CLI's exit status tells
    them apart)."""
    from skylet.gateway.http1 import Listener

    platform = Platform(config, progress=lambda line: print(line, flush=True), hooks=hooks)
    await platform.start(only=config.only)
    platform.gateway.health_first = config.only is not None
    # What start-up built lives as long as the process: out of the collector's way. Requests
    # make many short-lived containers; collecting the youngest generation every 700 of them
    # took ~1.5% of the serving process's CPU samples under load (perf: gc_collect_main and
    # its visits); every 20,000 is enough, as cycles are rare there.
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        listener = Listener(platform.gateway, config.host, config.port, config.http)
        await listener.start()
        stopping = asyncio.Event()
        stopped_by = signal.SIGTERM

        def stop(signum: signal.Signals) -> None:
            nonlocal stopped_by
            if stopping.is_set():
                listener.hurry()
            else:
                stopped_by = signum
            stopping.set()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop, signum)
        await on_ready(platform)
        watching: asyncio.Task[None] | None = None
        if config.reload:
            watcher = Watcher(
                platform.watched_dirs,
                platform.redeploy,
                on_reload,
                skip=frozenset({config.data_dir}),
            )
            watching = asyncio.create_task(watcher.run())
        await stopping.wait()
        await listener.shutdown(config.shutdown_grace_s)
        if watching is not None:
            # A reload under way (installing requirements, say) is abandoned: stopping waits
            # on nothing a function or a build does.
            watcher.stop()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
    finally:
        await platform.aclose()
    return stopped_by
