"""The functions' CPU weights and process limits, in cgroup v1 or v2: directories under
``skylet-<zygote pid>``, made by the zygote (root). Which hierarchy is used is decided once
(:func:`choose`, pure, from ``/proc/self/cgroup`` and what ``/sys/fs/cgroup`` holds):

- **v1** (``cpu`` controller at ``/sys/fs/cgroup/cpu``): ``cpu.shares`` as the platform gives
  it (1024 per 1,769 MB). Every template lives in ``templates``, whose weight is the smallest:
  forking and preparing spares ahead of demand gives way to the platform and to running
  instances. A spare, once prepared, moves itself into its function's directory ``t<id>``,
  whose ``cgroup.procs`` is the function's uid's, so it may move its own processes there only.
- **v2** (a unified hierarchy whose cgroup, this process's, offers ``cpu``): ``cpu.weight``,
  the same proportion in v2's units (100, the default, per 1,769 MB: :func:`v2_weight`), and
  ``pids.max`` when ``pids`` is offered. v2 lets a process move between cgroups only with write
  access to their common ancestor, which no function's uid has: so a template is made in its
  function's directory and its spares are born there. v2 also keeps processes out of any
  cgroup whose controllers are given to its children: when skylet's cgroup is not the root,
  the platform and the zygote first move into a leaf of their own, ``skylet-<pid>-platform``;
  if other processes share the cgroup that cannot be done, and :func:`choose`'s caller says so.

The interface the zygote and the templates use is :class:`CpuWeights`, the same for both:
``start``, ``template_cgroup``, ``create``, ``join``, ``remove``, ``remove_all`` and
``remove_stale``; :func:`open_weights` makes it, or says why not.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

CGROUP_ROOT = "/sys/fs/cgroup"
CPU_ROOT = f"{CGROUP_ROOT}/cpu"
#: Where a hybrid machine (v1 controllers beside a v2 tree) mounts its unified hierarchy.
UNIFIED = f"{CGROUP_ROOT}/unified"
_PREFIX = "skylet-"
#: v2 below its root: the platform's and the zygote's leaf, ``skylet-<pid>-platform``.
_LEAF = "-platform"
#: The templates' weight in v1, the smallest there is: preparing spares ahead of demand runs
#: when nothing else wants the CPU (a spare a cold start waits for is prepared at its
#: function's).
TEMPLATE_SHARES = 2
#: v2's default weight, which is one CPU's worth as 1024 shares are in v1.
V2_DEFAULT_WEIGHT = 100
V1_DEFAULT_SHARES = 1024
V2_MAX_WEIGHT = 10_000
#: The CFS period a quota is a share of (the kernel's default).
CPU_PERIOD_US = 100_000


def v2_weight(shares: int) -> int:
    """v1 shares in v2's units (1..10,000): 74 shares (128 MB) → 7, 1024 (1,769 MB) → 100,
    5,928 (10,240 MB) → 579. Proportional, not systemd's mapping (which makes 1024 shares 39),
    so a function's weight against an unsandboxed process's stays what it is in v1."""
    return min(V2_MAX_WEIGHT, max(1, round(shares * V2_DEFAULT_WEIGHT / V1_DEFAULT_SHARES)))


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Where skylet makes its directories: ``version`` 1 or 2; ``parent``, the directory that
    holds ``skylet-<pid>``; ``pids``: v2's ``pids`` controller is offered too; ``below_root``:
    v2's cgroup is not the hierarchy's root, so the platform and the zygote move into a leaf of
    their own first."""

    version: Literal[1, 2]
    parent: str
    pids: bool = False
    below_root: bool = False

    def describe(self) -> str:
        if self.version == 1:
            return "cgroup v1 cpu.shares, 1024 per 1,769 MB of memory"
        pids = ", pids.max" if self.pids else ""
        return f"cgroup v2 cpu.weight, 100 per 1,769 MB of memory{pids}"


def _own_paths(self_cgroup: str) -> tuple[dict[str, str], str | None]:
    """(v1 controller → this process's path, v2's path) from ``/proc/self/cgroup``."""
    v1: dict[str, str] = {}
    unified = None
    for line in self_cgroup.splitlines():
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":
            unified = path
        else:
            for name in controllers.split(","):
                v1[name] = path
    return v1, unified


def choose(
    self_cgroup: str,
    exists: Callable[[str], bool],
    read: Callable[[str], str],
    *,
    euid: int,
) -> Hierarchy | str:
    """The hierarchy to use, or why there is none. ``self_cgroup``: the text of
    ``/proc/self/cgroup``; ``exists`` and ``read``: what a path under ``/sys/fs/cgroup`` holds
    (``read`` of a missing file gives ""). v1's ``cpu`` controller when it is mounted, else a
    unified hierarchy whose cgroup (this process's) offers ``cpu``."""
    if euid != 0:
        return f"skylet is not root (uid {euid})"
    v1, unified = _own_paths(self_cgroup)
    if "cpu" in v1 and exists(f"{CPU_ROOT}/cpu.shares"):
        return Hierarchy(1, CPU_ROOT)
    if unified is None:
        return "no cgroup v1 cpu controller and no cgroup v2 hierarchy"
    mount = next((m for m in (CGROUP_ROOT, UNIFIED) if exists(f"{m}/cgroup.controllers")), None)
    if mount is None:
        return "no cgroup v1 cpu controller, and no cgroup v2 hierarchy is mounted"
    own = posixpath.normpath(mount + unified) if unified != "/" else mount
    offered = set(read(f"{own}/cgroup.controllers").split())
    if "cpu" not in offered:
        where = "cgroup v1" if v1 else "no controller"
        return (
            f"no cgroup v1 cpu controller, and cgroup v2's {own} offers no cpu controller "
            f"({' '.join(sorted(offered)) or 'none'}; the others are in {where})"
        )
    return Hierarchy(2, own, pids="pids" in offered, below_root=unified != "/")


def probe() -> Hierarchy | str:
    """:func:`choose` on this machine."""
    try:
        with open("/proc/self/cgroup") as f:
            self_cgroup = f.read()
    except OSError as error:
        return f"/proc/self/cgroup cannot be read ({error.strerror})"
    return choose(self_cgroup, os.path.exists, _read, euid=os.geteuid())


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def open_weights(platform_pid: int) -> tuple[CpuWeights | None, Hierarchy | str]:
    """This zygote's weights (None when there are none) and the hierarchy they use, or why
    there is none: what the sandbox's report says."""
    chosen = probe()
    if isinstance(chosen, str):
        return None, chosen
    weights = CpuWeights(chosen)
    weights.remove_stale()
    try:
        weights.start(platform_pid)
    except OSError as error:
        weights.remove_all()
        return None, f"{chosen.describe()} cannot be set up: {error.strerror} ({error.filename})"
    return weights, chosen


class CpuWeights:
    """This zygote's directories in ``hierarchy``; ``remove_stale`` clears those of zygotes that
    died. ``start`` does what v2 needs before the first directory (the leaf, the controllers
    given to the children), raising ``OSError`` when it cannot."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        self.hierarchy = hierarchy
        self.base = f"{hierarchy.parent}/{_PREFIX}{os.getpid()}"
        self.templates = f"{self.base}/templates"

    def start(self, platform_pid: int) -> None:
        h = self.hierarchy
        if h.version == 1:
            os.makedirs(self.templates, exist_ok=True)
            _write(f"{self.templates}/cpu.shares", TEMPLATE_SHARES)
            return
        controllers = "+cpu +pids" if h.pids else "+cpu"
        if h.below_root:
            leaf = f"{self.base}{_LEAF}"
            os.makedirs(leaf, exist_ok=True)
            for pid in (platform_pid, os.getpid()):
                _write(f"{leaf}/cgroup.procs", pid)
            _write(f"{h.parent}/cgroup.subtree_control", controllers)
        os.makedirs(self.base, exist_ok=True)
        _write(f"{self.base}/cgroup.subtree_control", controllers)

    def template_cgroup(self, function_cgroup: str) -> str:
        """Where a new template goes: v1's low-weight ``templates`` (its spares move to
        ``function_cgroup`` once prepared), v2's ``function_cgroup`` itself."""
        return self.templates if self.hierarchy.version == 1 else function_cgroup

    def create(
        self,
        name: str,
        shares: int,
        owner: int | None,
        pids: int | None = None,
        quota_us: int | None = None,
    ) -> str:
        """A function's directory of weight ``shares`` (v1's units), which uid ``owner`` may
        move its own processes into; ``pids``: v2's ``pids.max`` for the whole function;
        ``quota_us``: its CPU time per 100 ms period (v1's ``cpu.cfs_quota_us``, v2's
        ``cpu.max``), all its instances together."""
        path = f"{self.base}/{name}"
        os.makedirs(path, exist_ok=True)
        if self.hierarchy.version == 1:
            _write(f"{path}/cpu.shares", max(2, shares))
            if quota_us is not None:
                _write(f"{path}/cpu.cfs_period_us", CPU_PERIOD_US)
                _write(f"{path}/cpu.cfs_quota_us", quota_us)
            files: tuple[str, ...] = ("cgroup.procs", "tasks")
        else:
            _write(f"{path}/cpu.weight", v2_weight(shares))
            if quota_us is not None:
                _write(f"{path}/cpu.max", f"{quota_us} {CPU_PERIOD_US}")
            if pids is not None and self.hierarchy.pids:
                _write(f"{path}/pids.max", pids)
            files = ("cgroup.procs", "cgroup.threads")
        if owner is not None:
            for file in files:
                os.chown(f"{path}/{file}", owner, owner)
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

    def remove_stale(self) -> None:
        parent = self.hierarchy.parent
        with contextlib.suppress(OSError):
            for entry in os.listdir(parent):
                pid = entry.removeprefix(_PREFIX).removesuffix(_LEAF)
                if entry.startswith(_PREFIX) and pid.isdigit() and not _alive(pid):
                    _remove_tree(f"{parent}/{entry}")


def _write(path: str, value: int | str) -> None:
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
