"""One zygote per Python interpreter: the platform's own, started with the platform, and one
for each other interpreter a function's runtime names (skylet.pool.runtimes), started on the
first template asked of it. They share one sandbox policy: what the machine offers is the same
whichever interpreter probes it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from skylet.pool.runtimes import Runtimes
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygote import SPARES_PER_TEMPLATE, Status, ZygoteClient


class Zygotes:
    """``status`` and ``restarts`` are the platform's own interpreter's zygote's (``/health``):
    another interpreter's zygote that cannot start fails its functions' cold starts, not the
    platform's health."""

    def __init__(
        self,
        *,
        runtimes: Runtimes | None = None,
        environment: Mapping[str, str] | None = None,
        policy: SandboxPolicy | None = None,
        spares: int = SPARES_PER_TEMPLATE,
        default: ZygoteClient | None = None,
    ) -> None:
        self.runtimes = runtimes or Runtimes()
        self._environment = dict(environment or {})
        self.default = default or ZygoteClient(
            python=self.runtimes.host_program,
            environment=self._environment,
            policy=policy,
            spares=spares,
        )
        self.policy = self.default.policy
        self._others: dict[str, ZygoteClient] = {}

    @property
    def status(self) -> Status:
        return self.default.status

    @property
    def restarts(self) -> int:
        return self.default.restarts

    async def start(self) -> None:
        await self.default.start()

    def for_runtime(self, runtime: str) -> ZygoteClient:
        """The zygote of ``runtime``'s interpreter (RuntimeRefused when there is none), made
        on first use and started on its first template."""
        launcher = self.runtimes.launcher(runtime)
        if launcher.host:
            return self.default
        client = self._others.get(launcher.program)
        if client is None:
            # skylet's worker code and its pure-Python packages, from the platform's own path:
            # compiled ones (orjson) are found only by the interpreter they were built for, and
            # the worker does without them (skylet.fastjson).
            path = os.pathsep.join(platform_path())
            client = ZygoteClient(
                python=launcher.program,
                environment={**self._environment, "PYTHONPATH": path},
                policy=self.policy,
                spares=self.default.spares,
            )
            self._others[launcher.program] = client
        return client

    def clients(self) -> list[ZygoteClient]:
        return [self.default, *self._others.values()]

    async def aclose(self) -> None:
        for client in self.clients():
            await client.aclose()


def platform_path() -> list[str]:
    """The platform's import path less its interpreter's standard library: where skylet and
    the packages it runs on are."""
    bases = tuple(os.path.realpath(p) + os.sep for p in {sys.base_prefix, sys.base_exec_prefix})
    return [
        p
        for p in sys.path
        if p
        and Path(p).is_dir()
        and ("-packages" in p or not os.path.realpath(p).startswith(bases))
    ]
