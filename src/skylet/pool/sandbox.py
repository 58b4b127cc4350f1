"""The platform's decisions about sandboxes: what each function's template enters (pure, from
what the zygote found this machine offers), and what is reported about it (banner, /health).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from skylet.config import FunctionConfig
from skylet.wire import sandbox as names
from skylet.wire.sandbox import Mechanisms, TemplateSpec

#: Lambda gives one vCPU at 1,769 MB, and a cgroup's default weight (one CPU's worth) is 1024.
MB_PER_CPU = 1769
CPU_SHARES_PER_CPU = 1024
#: Lambda's limit on processes and threads in one execution environment.
PROCESSES_PER_INSTANCE = 1024
#: The first uid given to a function when skylet runs as root (then one per function).
UID_BASE = 10_000_000


def cpu_shares(memory_mb: int) -> int:
    """A function's CPU weight: 74 at 128 MB, 1024 at 1,769 MB, 5,928 at 10,240 MB."""
    return max(2, round(CPU_SHARES_PER_CPU * memory_mb / MB_PER_CPU))


#: The CFS period a quota is a share of (the kernel's default, 100 ms).
CPU_PERIOD_US = 100_000


def cpu_quota_us(memory_mb: int) -> int:
    """A capped function's CPU time per 100 ms period, in proportion to memory as Lambda
    gives it: 7,236 µs (7 % of a CPU) at 128 MB, 100,000 (one CPU) at 1,769 MB, 170,040
    (1.7 CPUs) at 3,008 MB. At least 1,000 µs, the kernel's smallest quota."""
    return max(1000, round(CPU_PERIOD_US * memory_mb / MB_PER_CPU))


@dataclass(frozen=True, slots=True)
class SandboxReport:
    """Which protections are on (and how) and off (and why), for the banner and /health."""

    on: MappingProxyType[str, str]
    off: MappingProxyType[str, str]

    def lines(self) -> list[str]:
        """One line of what is on and one of what is off (with the reasons)."""
        on = ", ".join(n for n in names.ALL if n in self.on)
        off = "; ".join(f"{n} ({self.off[n]})" for n in names.ALL if n in self.off)
        return [f"sandbox: {on or 'nothing'}", *([f"sandbox off: {off}"] if off else [])]

    def document(self) -> dict[str, object]:
        return {"on": dict(self.on), "off": dict(self.off)}


@dataclass(slots=True)
class SandboxPolicy:
    """``enabled``: ``--sandbox`` (the default) or ``--no-sandbox``. ``mechanisms``: what the
    zygote found (None until it started). ``private``: paths no function may see, the platform
    sets them at each deploy (its data directory, the project, every function's code).
    ``uids``: the uid each function runs as when skylet is root, stable while it runs."""

    enabled: bool = True
    #: The most instances a function may have when it reserves none (the platform's limit).
    max_concurrency: int = 1000
    mechanisms: Mechanisms | None = None
    private: frozenset[str] = frozenset()
    uids: dict[str, int] = field(default_factory=dict)

    def hide(self, paths: Iterable[Path]) -> None:
        self.private = frozenset(str(p) for p in paths)

    def uid_for(self, name: str) -> int:
        if name not in self.uids:
            self.uids[name] = UID_BASE + len(self.uids)
        return self.uids[name]

    def function_of_uid(self, uid: int) -> str | None:
        """The function that runs as ``uid`` (skylet is root), or None."""
        for name, given in self.uids.items():
            if given == uid:
                return name
        return None

    def spec_for(self, fn: FunctionConfig) -> TemplateSpec:
        """What ``fn``'s template enters: every mechanism this machine has, unless the sandbox
        is off. ``network: false`` asks for a network namespace even where none is to be had,
        so that its template fails with the kernel's reason rather than run with a network."""
        found = self.mechanisms
        if not self.enabled or found is None:
            return TemplateSpec(tmp_mb=fn.ephemeral_storage_mb)
        user_ns = found.has(names.USER_NS)
        return TemplateSpec(
            user_ns=user_ns,
            mount_ns=found.has(names.MOUNT_NS),
            pid_ns=found.has(names.PID_NS),
            ipc_ns=found.has(names.IPC_NS),
            net_ns=not fn.network,
            uid=self.uid_for(fn.name) if found.has(names.UID) else None,
            cpu_shares=cpu_shares(fn.memory_mb) if found.has(names.CPU_WEIGHT) else None,
            cpu_quota_us=(
                cpu_quota_us(fn.memory_mb) if fn.cpu_quota and found.has(names.CPU_WEIGHT) else None
            ),
            nproc=PROCESSES_PER_INSTANCE if user_ns and found.has(names.PIDS_LIMIT) else None,
            pids_max=self.pids_max(fn) if found.has(names.PIDS_LIMIT) else None,
            seccomp=found.has(names.SECCOMP),
            tmp_mb=fn.ephemeral_storage_mb,
            hide=tuple(sorted(self.private)),
            reveal=(str(fn.code_dir), *fn.extra_path),
            opt=fn.opt_dir,
        )

    def pids_max(self, fn: FunctionConfig) -> int:
        """Processes and threads of all of ``fn``'s instances together: Lambda's per
        execution environment, times the instances it may have (5,120 with a reserved
        concurrency of 5)."""
        reserved = fn.reserved_concurrency
        instances = self.max_concurrency if reserved is None else reserved
        return PROCESSES_PER_INSTANCE * max(1, instances)

    def program_spec(self, name: str, cwd: Path, tmp_mb: int = 512) -> TemplateSpec | None:
        """What a Knative Service's program enters (docs/knative.md), or None with the sandbox
        off: a function's filesystem view (its directory and the Python runtime shown, the
        platform's data and the project hidden, everything read-only), a private ``/tmp``, IPC
        and mount namespaces, and an identity of its own (its own uid as root, a user
        namespace otherwise). Neither a network namespace (it serves ``PORT`` to skylet on
        this machine's loopback) nor a PID namespace (not yet)."""
        found = self.mechanisms
        if not self.enabled or found is None:
            return None
        uid = self.uid_for(f"service:{name}") if found.has(names.UID) else None
        return TemplateSpec(
            user_ns=uid is None and found.has(names.USER_NS),
            mount_ns=found.has(names.MOUNT_NS),
            ipc_ns=found.has(names.IPC_NS),
            uid=uid,
            tmp_mb=tmp_mb,
            hide=tuple(sorted(self.private)),
            reveal=(str(cwd),),
        )

    def templates_run_as_root(self) -> bool:
        """Whether a function's template keeps root (skylet runs as root without user
        namespaces: only its instances take the function's uid), so that it may run none of
        the function's code: neither its init (a snapshot) nor its requirements' framework
        (skylet.worker.preload)."""
        found = self.mechanisms
        if not self.enabled or found is None or found.has(names.USER_NS):
            return False
        return found.has(names.UID)

    def snapshots_refused(self) -> str | None:
        """Why a template may not run a function's init (a snapshot) here, or None."""
        if self.templates_run_as_root():
            return "snapStart needs user namespaces when skylet runs as root"
        return None

    def report(self) -> SandboxReport:
        found = self.mechanisms or Mechanisms()
        if not self.enabled:
            off = {name: "--no-sandbox" for name in names.ALL if name != names.NON_DUMPABLE}
            on = {k: v for k, v in found.on.items() if k == names.NON_DUMPABLE}
            return SandboxReport(MappingProxyType(on), MappingProxyType(off))
        return SandboxReport(MappingProxyType(dict(found.on)), MappingProxyType(dict(found.off)))
