"""What the platform and the zygote say about sandboxes: which mechanisms this machine offers
(``Mechanisms``, probed by the zygote at start) and what one function's template enters
(``TemplateSpec``, decided by the platform). Named, versioned records; pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

VERSION = 2

#: The mechanisms, in the order the banner lists them.
USER_NS = "user namespace"
PID_NS = "pid namespace"
MOUNT_NS = "mount namespace"
IPC_NS = "ipc namespace"
NET_NS = "network namespace"
UID = "uid per function"
CPU_WEIGHT = "cpu weight"
PIDS_LIMIT = "pids limit"
NON_DUMPABLE = "non-dumpable"
SECCOMP = "seccomp"
ALL = (
    USER_NS,
    PID_NS,
    MOUNT_NS,
    IPC_NS,
    NET_NS,
    UID,
    CPU_WEIGHT,
    PIDS_LIMIT,
    NON_DUMPABLE,
    SECCOMP,
)


@dataclass(frozen=True, slots=True)
class Mechanisms:
    """Each mechanism either works here (``on``: how) or not (``off``: why)."""

    on: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    off: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def has(self, name: str) -> bool:
        return name in self.on

    def encode(self) -> dict[str, Any]:
        return {"v": VERSION, "on": dict(self.on), "off": dict(self.off)}

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> Mechanisms:
        _check_version(value)
        return cls(MappingProxyType(dict(value["on"])), MappingProxyType(dict(value["off"])))


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    """What one function's template enters, once, for all its instances.

    Namespaces: ``user_ns`` (the function runs as uid 993 inside, no capability outside it),
    ``mount_ns`` (the read-only view of ``hide``/``reveal``, and a private ``/tmp`` of
    ``tmp_mb`` and ``/dev/shm`` per instance), ``pid_ns`` (one per instance: it sees only its
    own processes, all of which die with it), ``ipc_ns`` (one per instance), ``net_ns`` (no
    network: the function opted out). ``uid``: the function's own uid and gid outside (skylet
    runs as root), else None. ``cpu_shares``: its cgroup's weight (None: no cgroup). ``nproc``:
    processes and threads per instance (RLIMIT_NPROC in the instance's user namespace).
    ``pids_max``: processes and threads of all its instances together (cgroup v2's
    ``pids.max``, where the machine has it). ``seccomp``: each instance installs the filter
    of denied system calls (skylet.worker.seccomp).
    """

    user_ns: bool = False
    mount_ns: bool = False
    pid_ns: bool = False
    ipc_ns: bool = False
    net_ns: bool = False
    uid: int | None = None
    cpu_shares: int | None = None
    #: Its cgroup's CPU quota per 100 ms period, in µs (None: no cap, only the weight).
    cpu_quota_us: int | None = None
    nproc: int | None = None
    pids_max: int | None = None
    seccomp: bool = False
    tmp_mb: int = 512
    hide: tuple[str, ...] = ()
    reveal: tuple[str, ...] = ()
    #: The template takes a snapshot (Lambda SnapStart): no spare until its init ran.
    snapshot: bool = False
    #: The function's layers, unpacked together: shown read-only at /opt (with ``mount_ns``).
    opt: str | None = None

    def encode(self) -> dict[str, Any]:
        return {
            "v": VERSION,
            "user_ns": self.user_ns,
            "mount_ns": self.mount_ns,
            "pid_ns": self.pid_ns,
            "ipc_ns": self.ipc_ns,
            "net_ns": self.net_ns,
            "uid": self.uid,
            "cpu_shares": self.cpu_shares,
            "cpu_quota_us": self.cpu_quota_us,
            "nproc": self.nproc,
            "pids_max": self.pids_max,
            "seccomp": self.seccomp,
            "tmp_mb": self.tmp_mb,
            "hide": list(self.hide),
            "reveal": list(self.reveal),
            "snapshot": self.snapshot,
            "opt": self.opt,
        }

    @classmethod
    def decode(cls, value: Mapping[str, Any]) -> TemplateSpec:
        _check_version(value)
        return cls(
            user_ns=bool(value["user_ns"]),
            mount_ns=bool(value["mount_ns"]),
            pid_ns=bool(value["pid_ns"]),
            ipc_ns=bool(value["ipc_ns"]),
            net_ns=bool(value["net_ns"]),
            uid=None if value["uid"] is None else int(value["uid"]),
            cpu_shares=None if value["cpu_shares"] is None else int(value["cpu_shares"]),
            cpu_quota_us=(
                None if value.get("cpu_quota_us") is None else int(value["cpu_quota_us"])
            ),
            nproc=None if value["nproc"] is None else int(value["nproc"]),
            pids_max=None if value.get("pids_max") is None else int(value["pids_max"]),
            seccomp=bool(value.get("seccomp", False)),
            tmp_mb=int(value["tmp_mb"]),
            hide=tuple(str(p) for p in value["hide"]),
            reveal=tuple(str(p) for p in value["reveal"]),
            snapshot=bool(value["snapshot"]),
            opt=None if value["opt"] is None else str(value["opt"]),
        )


def _check_version(value: Mapping[str, Any]) -> None:
    if value.get("v") != VERSION:
        raise ValueError(f"sandbox record version {value.get('v')!r}, expected {VERSION}")
