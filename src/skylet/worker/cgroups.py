"""The functions' CPU weights: a cgroup v1 ``cpu`` directory per template, made by the zygote
(root), under ``skylet-<zygote pid>``. A template joins its own before it enters its sandbox;
its instances inherit it. The platform chooses the weight (skylet.pool.sandbox.cpu_shares).
"""

from __future__ import annotations

import contextlib
import os

CPU_ROOT = "/sys/fs/cgroup/cpu"
_PREFIX = "skylet-"


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

    def create(self, name: str, shares: int) -> str:
        path = f"{self.base}/{name}"
        os.makedirs(path, exist_ok=True)
        with open(f"{path}/cpu.shares", "w") as f:
            f.write(str(max(2, shares)))
        return path

    @staticmethod
    def join(path: str) -> None:
        """Move the calling process into ``path``."""
        with open(f"{path}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))

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


def _remove_tree(path: str) -> None:
    with contextlib.suppress(OSError):
        for entry in os.listdir(path):
            if os.path.isdir(f"{path}/{entry}"):
                with contextlib.suppress(OSError):
                    os.rmdir(f"{path}/{entry}")
        os.rmdir(path)


def _alive(pid: str) -> bool:
    return pid.isdigit() and os.path.exists(f"/proc/{pid}")
