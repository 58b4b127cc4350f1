"""The functions' CPU weights: cgroup v1 ``cpu`` directories under ``skylet-<zygote pid>``, made
by the zygote (root). Every template lives in ``templates``, whose weight is small: forking and
preparing spares ahead of demand gives way to the platform and to running instances. A spare,
once prepared, moves itself into its function's directory, ``t<id>``, whose weight the platform
chooses (skylet.pool.sandbox.cpu_shares). So that it may, that directory's ``cgroup.procs`` is
the function's uid's: it can move its own processes there, and only there.
"""

from __future__ import annotations

import contextlib
import os

CPU_ROOT = "/sys/fs/cgroup/cpu"
_PREFIX = "skylet-"
#: The templates' weight, the smallest there is: preparing spares ahead of demand runs when
#: nothing else wants the CPU (a spare a cold start waits for is prepared at its function's).
TEMPLATE_SHARES = 2


def unavailable() -> str | None:
    """Why CPU weights cannot be set here, or None when they can."""
    if os.geteuid() != 0:
        return f"skylet is not root (uid {os.getuid()})"
    if not os.path.isfile(f"{CPU_ROOT}/cpu.shares"):
        if os.path.isfile("/sys/fs/cgroup/cgroup.controllers"):
            return "cgroup v2 is not supported yet"
        return f"no cgroup v1 cpu controller at {CPU_ROOT}"
    if not os.access(CPU_ROOT, os.W_OK):
        return f"{CPU_ROOT} is not writable"
    return None


class CpuWeights:
    """This zygote's directories; ``remove_stale`` clears those of zygotes that died."""

    def __init__(self) -> None:
        self.base = f"{CPU_ROOT}/{_PREFIX}{os.getpid()}"
        self.templates = f"{self.base}/templates"

    def create(self, name: str, shares: int, owner: int | None) -> str:
        """A function's directory of weight ``shares``, which uid ``owner`` may move its own
        processes into."""
        path = f"{self.base}/{name}"
        if not os.path.isdir(self.templates):
            os.makedirs(self.templates, exist_ok=True)
            _write(f"{self.templates}/cpu.shares", TEMPLATE_SHARES)
        os.makedirs(path, exist_ok=True)
        _write(f"{path}/cpu.shares", max(2, shares))
        if owner is not None:
            for name in ("cgroup.procs", "tasks"):
                os.chown(f"{path}/{name}", owner, owner)
        return path

    @staticmethod
    def join(path: str) -> None:
        """Move the calling process (and its threads) into ``path``."""
        _write(f"{path}/cgroup.procs", 0)

    @staticmethod
    def remove(path: str) -> bool:
        """Remove a template's directory once nothing is in it; False while something is."""
        try:
            os.rmdir(path)
        except FileNotFoundError:
            return True
        except OSError:
            return False
        return True

    def remove_all(self) -> None:
        _remove_tree(self.base)

    @staticmethod
    def remove_stale() -> None:
        with contextlib.suppress(OSError):
            for entry in os.listdir(CPU_ROOT):
                if entry.startswith(_PREFIX) and not _alive(entry.removeprefix(_PREFIX)):
                    _remove_tree(f"{CPU_ROOT}/{entry}")


def _write(path: str, value: int) -> None:
    with open(path, "w") as f:
        f.write(str(value))


def _remove_tree(path: str) -> None:
    with contextlib.suppress(OSError):
        for entry in os.listdir(path):
            if os.path.isdir(f"{path}/{entry}"):
                with contextlib.suppress(OSError):
                    os.rmdir(f"{path}/{entry}")
        os.rmdir(path)


def _alive(pid: str) -> bool:
    return pid.isdigit() and os.path.exists(f"/proc/{pid}")
