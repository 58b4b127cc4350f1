"""A server program's resources: ``limits.memory`` as a function's memorySize is enforced
(RLIMIT_DATA on the process, and its resident memory checked), ``limits.cpu`` as a CFS quota
in a cgroup v1 ``cpu`` directory of its own, where this machine allows it.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Callable
from pathlib import Path

from skylet.wire.sandbox import TemplateSpec
from skylet.worker import cgroups

#: The CFS period the quota is a share of: 100 ms, the kernel's default.
PERIOD_US = 100_000


def cpu_unavailable() -> str | None:
    """Why a CPU quota cannot be set here, or None."""
    found = cgroups.probe()
    if isinstance(found, str):
        return found
    if found.version != 1:  # a program's quota is written in v1's terms (cpu.cfs_quota_us)
        return "a program's CPU quota needs cgroup v1's cpu controller; this machine has v2"
    if not Path(cgroups.CPU_ROOT, "cpu.cfs_quota_us").is_file():
        return f"no CFS quota (cpu.cfs_quota_us) at {cgroups.CPU_ROOT}"
    return None


class CpuQuotas:
    """``skylet-svc-<pid>/<service>`` directories, removed at ``aclose``."""

    def __init__(self) -> None:
        self.base = f"{cgroups.CPU_ROOT}/skylet-svc-{os.getpid()}"

    def create(self, name: str, millis: int) -> str:
        """The directory of ``name``, whose processes share ``millis`` thousandths of a CPU:
        100m is 10 ms of every 100 ms."""
        path = f"{self.base}/{name}"
        Path(path).mkdir(parents=True, exist_ok=True)
        with open(f"{path}/cpu.cfs_period_us", "w") as f:
            f.write(str(PERIOD_US))
        with open(f"{path}/cpu.cfs_quota_us", "w") as f:
            f.write(str(max(1000, millis * PERIOD_US // 1000)))
        return path

    def remove_all(self) -> None:
        with contextlib.suppress(OSError):
            base = Path(self.base)
            for entry in base.iterdir():
                with contextlib.suppress(OSError):
                    entry.rmdir()
            base.rmdir()


def preexec(
    memory_mb: int | None, cgroup: str | None, sandbox: TemplateSpec | None = None
) -> Callable[[], None]:
    """What the child runs before exec: its own session, the data limit, the cgroup, then
    the sandbox (skylet.worker.sandbox: a function's view and identity) when given."""

    def enter() -> None:
        os.setsid()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if cgroup is not None:
            with open(f"{cgroup}/cgroup.procs", "w") as f:
                f.write("0")
        if sandbox is not None:
            from skylet.worker import sandbox as entering

            entered = entering.enter_function(sandbox, lambda: None)
            entering.enter_instance(entered)
        if memory_mb:  # last: this child of skylet's process holds more until it execs
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))

    return enter


def rss_kb(pid: int) -> int:
    """The resident memory of the session ``pid`` leads (it and what it started), in KiB."""
    total = 0
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[3]) != pid:  # field 6, the session
                    continue
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") // 1024
    return total


def unreadable(spec: TemplateSpec | None) -> str | None:
    """Why a program could not enter ``spec`` (its directory closed to its own uid), or None;
    checked before starting it, since a failure in the child says only that it failed."""
    if spec is None or spec.uid is None:
        return None
    for path in spec.reveal:
        try:
            mode = Path(path).stat().st_mode
        except OSError as error:
            return f"{path}: {error.strerror}"
        if mode & 0o005 != 0o005:
            return (
                f"{path} (mode {mode & 0o777:o}) is not readable by the program's own uid: "
                "skylet runs as root and each program as an unprivileged user of its own; "
                "make it readable by others (chmod o+rX)"
            )
    return None
