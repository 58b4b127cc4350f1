"""Entering a function's sandbox: once per function in its template, then a little more in each
instance. What each step protects is in docs/runtime.md ("The sandbox").

The template (forked from the zygote, single-threaded, with nothing of any function in it yet):

1. mount and IPC namespaces (and a network namespace with only loopback, for a function that
   opted out of the network); the filesystem view (``skylet.worker.view``): everything
   read-only, the platform's data, the project, other functions' code and the platform user's
   home hidden, the function's code, dependencies and the Python runtime revealed;
2. a user namespace in which the function is uid 993, gid 990 (Lambda's), mapped to its own
   uid outside when skylet runs as root (the zygote writes that map), to the platform's own
   otherwise. The view was built before this namespace was entered (or, unprivileged, in one
   more level of it), so its mounts are locked: nothing inside can unmount them or make them
   writable;
3. a PID namespace, whose first process is the template itself (forked once more).

Each instance (forked from the template into a PID namespace of its own): a mount namespace
with a private tmpfs ``/tmp`` (``tmp_mb``), ``/dev/shm`` and ``/proc``; an IPC namespace; a user
namespace of its own, in which RLIMIT_NPROC counts only its processes; no capabilities, no new
privileges, not dumpable (``/proc/PID/mem`` and ``environ`` are closed even to its own uid).
"""

from __future__ import annotations

import contextlib
import errno
import os
import pwd
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass

from skylet.wire import sandbox as names
from skylet.wire.sandbox import Mechanisms, TemplateSpec
from skylet.worker import cgroups, linux, seccomp, view

#: The function's identity inside its user namespace: Lambda's sbx_user1051.
INSIDE_UID = 993
INSIDE_GID = 990
#: A private /dev/shm per instance (Lambda has none; multiprocessing needs one).
SHM_MB = 64
_HIDDEN_TMPFS = "size=16k,nr_inodes=4096,mode=0755"
#: Mount flags a remount must keep (in a user namespace they are locked and may not be cleared).
_KEPT_FLAGS = {
    "nosuid": linux.MS_NOSUID,
    "nodev": linux.MS_NODEV,
    "noexec": linux.MS_NOEXEC,
    "noatime": linux.MS_NOATIME,
    "nodiratime": linux.MS_NODIRATIME,
    "relatime": linux.MS_RELATIME,
}
#: Left writable: kernel interfaces whose own permissions apply (a proc mounted read-only
#: would also stop each instance from mounting its own).
_LEFT_WRITABLE = ("/proc", "/dev", "/sys")


@dataclass(slots=True)
class Entered:
    """What a template entered, for its instances: its spec, and the revealed paths under
    ``/tmp`` that each instance's private ``/tmp`` must show again."""

    spec: TemplateSpec
    tmp_reveals: tuple[str, ...] = ()
    pid_ns_fd: int = -1  # the template's own PID namespace, to come back to after a fork
    #: The function's cgroup (skylet.worker.cgroups), which a prepared spare moves into.
    cgroup: str | None = None


def runtime_paths() -> list[str]:
    """What the Python runtime needs to see: its prefixes and the directories on its path."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found.update(p for p in sys.path if p and os.path.isdir(p))
    # "/" (the zygote's working directory on its path) is seen anyway.
    return sorted({os.path.realpath(p) for p in found} - {"/"})


def platform_home() -> str | None:
    """The home directory of the user skylet runs as (its keys, credentials, history)."""
    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        return None
    return os.path.realpath(home) if home and home != "/" else None


def enter_function(spec: TemplateSpec, await_maps: Callable[[], None]) -> Entered:
    """Steps 1 and 2 of the module docstring, in the template. ``await_maps``: ask the zygote
    (root) to write this process's identity maps, and wait until it has."""
    root = os.geteuid() == 0
    first = (
        (linux.CLONE_NEWNS if spec.mount_ns else 0)
        | (linux.CLONE_NEWIPC if spec.ipc_ns else 0)
        | (linux.CLONE_NEWNET if spec.net_ns else 0)
    )
    if spec.user_ns and not root:
        _unshare_user(first)
    elif first:
        linux.unshare(first)
    if spec.net_ns:
        linux.loopback_up()
    tmp_reveals: tuple[str, ...] = ()
    if spec.mount_ns:
        tmp_reveals = build_view(spec, foreign=spec.uid is not None)
    if spec.user_ns:
        # A second namespace locks the view: its mounts came from a more privileged one.
        locking = linux.CLONE_NEWNS if spec.mount_ns else 0
        if root:
            linux.unshare(linux.CLONE_NEWUSER | locking)
            await_maps()
            os.setresgid(INSIDE_GID, INSIDE_GID, INSIDE_GID)
            os.setgroups([])
            os.setresuid(INSIDE_UID, INSIDE_UID, INSIDE_UID)
        else:
            _unshare_user(locking)
    if spec.pid_ns:
        linux.unshare(linux.CLONE_NEWPID)
    return Entered(spec, tmp_reveals)


def in_own_pid_namespace(entered: Entered) -> None:
    """Step 3, in the template's first process in its PID namespace: a ``/proc`` of its own,
    and a handle on the namespace to return to after forking each instance into a new one."""
    if entered.spec.pid_ns:
        if entered.spec.mount_ns:
            linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
        entered.pid_ns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)


def build_view(spec: TemplateSpec, *, foreign: bool) -> tuple[str, ...]:
    """Apply the filesystem view of ``spec`` in this (new) mount namespace; returns the
    revealed paths under ``/tmp``. ``foreign``: the sandbox's uid is not the platform's, so
    directories closed to others are hidden on the way to what it must see."""
    if foreign:
        _check_readable(spec.reveal)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    hide = [*spec.hide]
    home = platform_home()
    if home is not None:
        hide.append(home)
    reveal = [p for p in (*spec.reveal, *runtime_paths()) if p != "/" and os.path.exists(p)]
    ops = view.plan(
        [p for p in hide if os.path.lexists(p)],
        reveal,
        closed=_closed_to_others if foreign else lambda _: False,
    )
    # Handles on what is revealed, taken before anything hides it.
    handles = {
        op.path: os.open(op.path, os.O_PATH | os.O_CLOEXEC) for op in ops if op.kind == "reveal"
    }
    layers = os.open(spec.opt, os.O_PATH | os.O_CLOEXEC) if spec.opt else -1
    try:
        for op in ops:
            if op.kind == "hide":
                _hide(op.path)
            else:
                _make_mount_point(op.path, os.path.isdir(f"/proc/self/fd/{handles[op.path]}"))
                _bind(handles[op.path], op.path)
        if layers >= 0:  # Lambda unpacks a function's layers at /opt
            _make_mount_point("/opt", True)
            _bind(layers, "/opt")
    finally:
        for fd in handles.values():
            os.close(fd)
        if layers >= 0:
            os.close(layers)
    _all_read_only()
    shown = [p for p in reveal if view.seen(p, ops)]
    return tuple(p for p in view.outermost(shown) if view.within(p, "/tmp"))


def enter_instance(entered: Entered) -> None:
    """The instance's own part, in the process just forked from the template (into a new PID
    namespace when ``spec.pid_ns``), before any function code runs."""
    spec = entered.spec
    # The template's change of identity left it not dumpable, which makes /proc/self root's:
    # dumpable again until ``non_dumpable``, so that this process may write its own maps.
    linux.prctl(linux.PR_SET_DUMPABLE, 1)
    if spec.mount_ns:
        linux.unshare(linux.CLONE_NEWNS | (linux.CLONE_NEWIPC if spec.ipc_ns else 0))
        handles = [_handle(p) for p in entered.tmp_reveals]
        flags = linux.MS_NOSUID | linux.MS_NODEV
        linux.mount("tmpfs", "/tmp", "tmpfs", flags, f"size={spec.tmp_mb}m,mode=1777")
        for path, fd in zip(entered.tmp_reveals, handles, strict=True):
            _make_mount_point(path, os.path.isdir(f"/proc/self/fd/{fd}"))
            _bind(fd, path)
            os.close(fd)
        if os.path.isdir("/dev/shm"):
            linux.mount("tmpfs", "/dev/shm", "tmpfs", flags, f"size={SHM_MB}m,mode=1777")
        if spec.pid_ns:
            linux.mount("proc", "/proc", "proc", flags | linux.MS_NOEXEC)
    elif spec.ipc_ns:
        linux.unshare(linux.CLONE_NEWIPC)
    if entered.pid_ns_fd >= 0:
        os.close(entered.pid_ns_fd)
    if spec.user_ns:
        _unshare_user()
        if spec.nproc:
            resource.setrlimit(resource.RLIMIT_NPROC, (spec.nproc, spec.nproc))
        linux.drop_bounding_set()
        linux.clear_capabilities()
    elif spec.uid is not None:  # root without user namespaces: the function's own uid
        linux.drop_bounding_set()
        os.setgroups([])
        os.setresgid(spec.uid, spec.uid, spec.uid)
        os.setresuid(spec.uid, spec.uid, spec.uid)  # from root: every capability goes
    linux.no_new_privileges()
    if spec.seccomp:  # last: the steps above mount and unshare
        seccomp.install()


def non_dumpable() -> None:
    """Nobody but root reads this process's memory or environment through /proc, not even its
    own uid; set last, since changing identity resets it."""
    linux.prctl(linux.PR_SET_DUMPABLE, 0)


def _unshare_user(flags: int = 0) -> None:
    """A new user namespace (with ``flags``' other namespaces) in which this process is uid
    993 and gid 990, mapped to its own ids outside (read before: inside a new namespace they
    are unmapped until the maps are written)."""
    outside_uid, outside_gid = os.getuid(), os.getgid()
    linux.unshare(linux.CLONE_NEWUSER | flags)
    linux.write_id_maps(
        "self",
        f"{INSIDE_UID} {outside_uid} 1",
        f"{INSIDE_GID} {outside_gid} 1",
        deny_setgroups=True,
    )


def _check_readable(paths: tuple[str, ...]) -> None:
    """The function's own uid reads its code and dependencies as "others" do: refuse, with
    the reason, a directory it could not read (its ancestors are taken care of)."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError:
            continue
        if mode & 0o005 != 0o005:
            raise PermissionError(
                f"{path} (mode {mode & 0o777:o}) is not readable by the function's own uid: "
                "skylet runs as root, and each function as an unprivileged user of its own; "
                "make it readable by others (chmod o+rX)"
            )


def _closed_to_others(path: str) -> bool:
    try:
        return not os.stat(path).st_mode & 0o001
    except OSError:
        return False


def _handle(path: str) -> int:
    return os.open(path, os.O_PATH | os.O_CLOEXEC)


def _hide(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        linux.mount("tmpfs", path, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, _HIDDEN_TMPFS)
    else:
        linux.mount("/dev/null", path, None, linux.MS_BIND)


def _make_mount_point(path: str, directory: bool) -> None:
    """``path`` inside a hidden directory's tmpfs, which is still writable while the view is
    built."""
    if directory:
        os.makedirs(path, exist_ok=True)
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o644))


def _bind(fd: int, path: str) -> None:
    # Recursive: a non-recursive bind of a tree with locked mounts below would uncover what
    # they cover, and the kernel refuses it.
    linux.mount(f"/proc/self/fd/{fd}", path, None, linux.MS_BIND | linux.MS_REC)


def _all_read_only() -> None:
    """Remount every mount of this namespace read-only (bind remounts keep each mount's other
    flags), except the kernel interfaces of ``_LEFT_WRITABLE``."""
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split() for line in f]
    for fields in mounts:
        point = _unescape(fields[4])
        options = fields[5].split(",")
        if "ro" in options or any(view.within(point, top) for top in _LEFT_WRITABLE):
            continue
        flags = linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY
        for option in options:
            flags |= _KEPT_FLAGS.get(option, 0)
        with contextlib.suppress(FileNotFoundError):  # a mount point hidden by another mount
            linux.mount(None, point, None, flags)


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    return (
        field.encode().decode("unicode_escape").encode("latin-1").decode(errors="surrogateescape")
    )


def probe(cpu: cgroups.Hierarchy | str) -> Mechanisms:
    """Which mechanisms work here: tried in forked children, so nothing sticks to the caller.
    ``cpu``: the cgroup hierarchy the zygote opened, or why there is none."""
    on: dict[str, str] = {names.NON_DUMPABLE: "PR_SET_DUMPABLE 0"}
    off: dict[str, str] = {}
    root = os.geteuid() == 0
    userns = _try(_probe_user_namespace)
    if userns is None:
        on[names.USER_NS] = "uid 993 inside, mapped to " + (
            "a uid of its own" if root else f"skylet's uid {os.getuid()}"
        )
        on[names.PIDS_LIMIT] = "RLIMIT_NPROC in each instance's user namespace"
    else:
        off[names.USER_NS] = userns
        off[names.PIDS_LIMIT] = f"needs a user namespace ({userns})"
    privileged = userns is None or root
    if not privileged:
        for name in (names.PID_NS, names.MOUNT_NS, names.IPC_NS, names.NET_NS):
            off[name] = "needs a user namespace or root"
    else:
        namespaces = _try(lambda: _probe_namespaces(userns is None))
        for name, how in (
            (names.PID_NS, "one per instance"),
            (names.MOUNT_NS, "read-only view, private /tmp per instance"),
            (names.IPC_NS, "one per instance"),
            (names.NET_NS, "for functions with network: false"),
        ):
            if namespaces is None:
                on[name] = how
            else:
                off[name] = namespaces
    if root:
        on[names.UID] = "a distinct unprivileged uid per function"
    else:
        off[names.UID] = f"skylet is not root (uid {os.getuid()})"
    filtered = seccomp.unavailable() or _try(_probe_seccomp)
    if filtered is None:
        on[names.SECCOMP] = (
            f"{len(seccomp.DENIED)} system calls denied with EPERM (ptrace, mount, bpf, …)"
        )
    else:
        off[names.SECCOMP] = filtered
    if isinstance(cpu, str):
        off[names.CPU_WEIGHT] = cpu
    else:
        on[names.CPU_WEIGHT] = cpu.describe()
        if cpu.pids:
            function_wide = "cgroup v2 pids.max per function (1024 per instance it may run)"
            if names.PIDS_LIMIT in on:
                on[names.PIDS_LIMIT] += f", and {function_wide}"
            else:
                on[names.PIDS_LIMIT] = function_wide
                off.pop(names.PIDS_LIMIT, None)
    return Mechanisms(on, off)


def _try(step: Callable[[], None]) -> str | None:
    """Run ``step`` in a forked child; None if it worked, else why not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        code = 0
        try:
            step()
        except BaseException as error:  # reported to the parent, then the child exits
            os.write(write_end, str(error).encode()[:1000])
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        why = f.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    return why or f"the probe ended with status {status}"


def _probe_seccomp() -> None:
    linux.no_new_privileges()
    seccomp.install()
    if linux.unshare_nothing() != errno.EPERM:
        raise OSError(errno.ENOSYS, "the seccomp filter was installed but denies nothing")


def _probe_user_namespace() -> None:
    _unshare_user(linux.CLONE_NEWNS)
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "size=16k")
    _unshare_user()  # an instance's own, nested
    resource.setrlimit(resource.RLIMIT_NPROC, (1024, 1024))
    linux.drop_bounding_set()
    linux.clear_capabilities()


def _probe_namespaces(in_user_namespace: bool) -> None:
    flags = linux.CLONE_NEWNS | linux.CLONE_NEWIPC | linux.CLONE_NEWNET | linux.CLONE_NEWPID
    if in_user_namespace:
        _unshare_user(flags)
    else:
        linux.unshare(flags)
    linux.loopback_up()
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV)
        except OSError:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError("mounting /proc for a new PID namespace was refused")
