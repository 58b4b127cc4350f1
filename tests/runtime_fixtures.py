"""Shared helpers for tests that run real instances: a zygote, an invoker, handler files."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygote import ZygoteClient

FUNCTIONS = Path(__file__).parent / "fixtures" / "functions"


def fn(name: str, handler: str, **overrides: Any) -> FunctionConfig:
    """A function over tests/fixtures/functions; ``handler`` defaults to ``handlers.<name>``."""
    base = FunctionConfig(name=name, handler=handler, code_dir=FUNCTIONS, timeout_s=5.0)
    return replace(base, **overrides)


def requirements_dir(*distributions: str) -> str:
    """A directory holding ``distributions`` and everything they require, as ``pip install
    --target`` makes a function's requirements directory (skylet.build.deps), made of links to
    this test environment's installed copies: a function sees only what it declares
    (skylet.worker.imports), so one that imports functions-framework or werkzeug declares it.
    Skips when one of them is not installed here."""
    from importlib import metadata

    from packaging.requirements import Requirement

    names = sorted({_canonical(d) for d in distributions})
    target = Path(tempfile.gettempdir()) / f"skylet-test-deps-{os.getpid()}-{'-'.join(names)}"
    if target.is_dir():
        return str(target)
    wanted, seen = list(names), set[str]()
    staging = Path(tempfile.mkdtemp(prefix="skylet-test-deps-"))
    staging.chmod(0o755)  # each function runs as a uid of its own when the tests run as root
    while wanted:
        name = wanted.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            if name in names:
                pytest.skip(f"{name} is not installed here (pip install -e '.[test]')")
            continue
        for line in dist.requires or ():
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                wanted.append(_canonical(requirement.name))
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            source = Path(str(dist.locate_file(top)))
            if top.endswith(".pth") or top == "__pycache__" or not source.exists():
                continue
            if not (staging / top).exists():
                (staging / top).symlink_to(source)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging)  # another test made it first
    return str(target)


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def unprivileged_python(directory: Path) -> str:
    """An interpreter command (a script in ``directory``) that runs this Python's skylet as
    the unprivileged user nobody (65534), for a zygote that is not root on this root machine.
    Skips where that cannot be had: not root, no setpriv, or no system Python of this version
    (this one may live where nobody cannot reach, as pyenv's under /root does)."""
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if os.geteuid() != 0 or shutil.which("setpriv") is None or not system.exists():
        pytest.skip("running skylet unprivileged needs root, setpriv and a system Python")
    path = os.pathsep.join(p for p in sys.path if p and Path(p).is_dir())
    script = directory / "python-as-nobody"
    script.write_text(
        "#!/bin/sh\n"
        "exec setpriv --reuid=65534 --regid=65534 --clear-groups "
        f'env PYTHONPATH="{path}" {system} "$@"\n'
    )
    script.chmod(0o755)
    return str(script)


@asynccontextmanager
async def running(
    functions: list[FunctionConfig],
    settings: RuntimeSettings | None = None,
    *,
    python: str = sys.executable,
    hide: tuple[Path, ...] = (),
) -> AsyncIterator[Invoker]:
    """An invoker with ``functions`` deployed on a zygote of ``python``, whose sandboxes
    hide ``hide`` (as the platform hides its data directory)."""
    settings = settings or RuntimeSettings()
    zygote = ZygoteClient(python=python, policy=SandboxPolicy(enabled=settings.sandbox))
    zygote.policy.hide(hide)
    await zygote.start()
    invoker = Invoker(settings, zygote, LogBook())
    try:
        await invoker.deploy(functions)
        yield invoker
    finally:
        await invoker.aclose(grace_s=2.0)
        await zygote.aclose()


def instance_pids(invoker: Invoker, name: str) -> list[int]:
    """The platform's pids of a function's live instances: inside its own PID namespace,
    each is pid 1, so what a function says of its pid names nothing out here."""
    pool = invoker._pools[name]
    return sorted(i.pid for i in pool._all if i.pid is not None and i.alive)


def started_below(pid: int, command: str, within_s: float = 10.0) -> int:
    """The one process below ``pid`` running ``command``, once it has exec'd it (a forked
    child may not have yet when its parent answered)."""
    deadline = time.monotonic() + within_s
    while not (found := commands_below(pid, command)):
        assert time.monotonic() < deadline, f"no {command!r} below {pid}"
        time.sleep(0.01)
    (only,) = found
    return only


def commands_below(pid: int, command: str) -> list[int]:
    """The live processes below ``pid`` whose command line starts with ``command``."""
    found = []
    for child in descendants(pid):
        try:
            argv = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if argv.startswith(command):
            found.append(child)
    return found


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (zombies excluded)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if fields[0] == b"Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2 :].split()[0] != b"Z"


def describe(pid: int) -> str:
    """``pid``, its state, parent and command line: what an assertion about survivors shows."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
    fields = stat[stat.rfind(b")") + 2 :].split()
    return f"{pid} state={fields[0].decode()} ppid={fields[1].decode()} {argv.strip()}"


async def until(condition: Callable[[], bool], within_s: float = 10.0) -> None:
    """Return once ``condition()`` holds, checking every 10 ms; fail after ``within_s``."""
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.01)
