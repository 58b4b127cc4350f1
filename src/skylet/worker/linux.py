"""The Linux calls the sandbox is made of, through libc: namespaces, mounts, capabilities,
identity maps, process flags. Python 3.11 has none of them (``os.unshare`` arrived in 3.12).

Every call raises ``OSError`` with the call and the path it was about, so that a template that
cannot enter its sandbox says exactly what the kernel refused. Single-threaded callers only:
``unshare(CLONE_NEWUSER)`` refuses a process with more than one thread.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

#: capset(2)'s number: x86_64's table and the generic one (arm64) differ.
_CAPSET_NUMBERS = {"x86_64": 126, "aarch64": 91}
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _path(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def unshare(flags: int) -> None:
    _check(_libc.unshare(ctypes.c_int(flags)), f"unshare({_flag_names(flags)})")


def unshare_nothing() -> int:
    """``unshare(0)``, which changes nothing: 0 when it is allowed, else its errno (a seccomp
    filter's EPERM)."""
    return 0 if _libc.unshare(0) == 0 else ctypes.get_errno()


def setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), f"setns({_flag_names(nstype)})")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    kind = "bind" if flags & MS_BIND else ("remount" if flags & MS_REMOUNT else fstype)
    _check(
        _libc.mount(
            _path(source),
            _path(target),
            _path(fstype),
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount ({kind}) on {target}",
    )


def prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def write_id_maps(pid: int | str, uid_map: str, gid_map: str, *, deny_setgroups: bool) -> None:
    """A new user namespace's maps (``inside outside count`` lines). An unprivileged process
    may map only itself, after denying ``setgroups``."""
    base = f"/proc/{pid}"
    if deny_setgroups:
        with open(f"{base}/setgroups", "w") as f:
            f.write("deny")
    for name, content in (("uid_map", uid_map), ("gid_map", gid_map)):
        with open(f"{base}/{name}", "w") as f:
            f.write(content)


def drop_bounding_set() -> None:
    """Empty the capability bounding set (needs CAP_SETPCAP): no executable can bring any
    capability back."""
    for cap in range(_last_capability() + 1):
        try:
            prctl(PR_CAPBSET_DROP, cap)
        except OSError as error:
            if error.errno != errno.EINVAL:  # a capability this kernel does not have
                raise


def clear_capabilities() -> None:
    """Clear the effective, permitted and inheritable sets (capset(2))."""
    number = _CAPSET_NUMBERS.get(os.uname().machine)
    if number is None:
        raise OSError(errno.ENOSYS, f"capset: unknown system call number on {os.uname().machine}")
    header = ctypes.create_string_buffer(struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(24)  # two (effective, permitted, inheritable) triples
    _check(_libc.syscall(number, header, data), "capset")


def no_new_privileges() -> None:
    """Nothing executed from now on gains privileges (setuid bits, file capabilities)."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 40


def effective_capabilities() -> int:
    """The calling process's effective set, as a bit mask (from /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def loopback_up() -> None:
    """Bring ``lo`` up in a new network namespace (which starts with it down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _flag_names(flags: int) -> str:
    names = {
        CLONE_NEWNS: "mount",
        CLONE_NEWIPC: "ipc",
        CLONE_NEWUSER: "user",
        CLONE_NEWPID: "pid",
        CLONE_NEWNET: "net",
    }
    return "|".join(name for bit, name in names.items() if flags & bit) or str(flags)
