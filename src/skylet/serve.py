"""Serving: the platform behind the HTTP server until SIGINT/SIGTERM, then a graceful stop."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Callable, Iterable, Iterator

from skylet.build.watcher import ReloadOutcome, Watcher
from skylet.invoker.hooks import InvocationHook
from skylet.platform import Platform, PlatformConfig

#: Allocations between two collections of the youngest generation in the serving process.
GC_THRESHOLD = 20_000


async def serve(
    config: PlatformConfig,
    *,
    on_ready: Callable[[Platform], None],
    on_reload: Callable[[ReloadOutcome], None] = lambda _: None,
    hooks: Iterable[InvocationHook] = (),
) -> None:
    """Run the platform behind uvicorn until SIGINT/SIGTERM, then stop gracefully: uvicorn
    finishes in-flight requests, then the platform retires instances and stops the zygote."""
    import uvicorn

    from skylet.gateway.direct import protocol_class

    class Server(uvicorn.Server):
        # uvicorn re-raises a captured signal once it has stopped, which would end the process
        # before the platform shuts down; skylet handles SIGINT/SIGTERM itself instead.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

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
        server = Server(
            uvicorn.Config(
                platform.gateway,
                host=config.host,
                port=config.port,
                loop="none",
                # httptools, with function routes served without an ASGI cycle
                http=protocol_class(platform.gateway),
                interface="asgi3",  # Gateway.__call__ returns the coroutine that serves
                lifespan="off",
                access_log=False,
                log_level="warning",
                # sourceIp is the TCP peer, as API Gateway's is; X-Forwarded-For from a local
                # process is not trusted (and the middleware costs every request a step).
                proxy_headers=False,
                server_header=False,  # API Gateway does not name its server either
                timeout_graceful_shutdown=int(config.shutdown_grace_s),
            )
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, setattr, server, "should_exit", True)
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        watching: asyncio.Task[None] | None = None
        if server.started:
            on_ready(platform)
            if config.reload:
                watcher = Watcher(
                    platform.watched_dirs,
                    platform.redeploy,
                    on_reload,
                    skip=frozenset({config.data_dir}),
                )
                watching = asyncio.create_task(watcher.run())
        await serving
        if watching is not None:
            # A reload under way (installing requirements, say) is abandoned: stopping waits
            # on nothing a function or a build does.
            watcher.stop()
            watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watching
    finally:
        await platform.aclose()
