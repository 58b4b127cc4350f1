"""skylet's gateway as a plain ASGI app, for another server to host (bench/http.py runs it under
granian): the platform starts on lifespan startup and every request takes the ASGI path, since
no other server can serve function routes without an ASGI cycle (docs/http.md, "Serving").

The manifest comes from SKYLET_BENCH_MANIFEST and the state directory from SKYLET_BENCH_DATA
(a benchmark's own settings, read here and nowhere in skylet).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from skylet.platform import Platform
from skylet.platform_config import PlatformConfig

_platform: list[Platform] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "lifespan":
        await _platform[0].gateway(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            config = PlatformConfig(
                Path(os.environ["SKYLET_BENCH_MANIFEST"]),
                data_dir=Path(os.environ["SKYLET_BENCH_DATA"]),
            )
            platform = Platform(config)
            await platform.start()
            _platform.append(platform)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await _platform[0].aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
