"""Templates with real processes: a function's instances fork from its own template, which is
made again when it dies; one that cannot enter its sandbox says why; instances are not
dumpable even without a sandbox."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from skylet.config import RuntimeSettings
from skylet.wire import sandbox as names
from skylet.worker import linux
from tests.runtime_fixtures import (
    FUNCTIONS,
    fn,
    instance_pids,
    running,
    unprivileged_python,
    until,
)

pytestmark = pytest.mark.anyio


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_bytes()
    return int(stat[stat.rfind(b")") + 2 :].split()[1])


async def test_each_functions_instances_fork_from_its_own_template() -> None:
    async with running([fn("a", "handlers.echo"), fn("b", "handlers.echo")]) as invoker:
        await asyncio.gather(invoker.invoke("a", b"{}"), invoker.invoke("b", b"{}"))
        (a,), (b,) = instance_pids(invoker, "a"), instance_pids(invoker, "b")
        template_a, template_b = _parent(a), _parent(b)
        assert template_a != template_b
        assert _parent(template_a) == _parent(template_b) == invoker._zygote.pid


async def test_a_dead_template_fails_what_its_instances_ran_and_is_made_again() -> None:
    async with running([fn("sleep", "handlers.sleep"), fn("echo", "handlers.echo")]) as invoker:
        await invoker.invoke("echo", b"{}")
        sleeping = asyncio.ensure_future(invoker.invoke("sleep", b'{"seconds": 30}'))
        await until(lambda: bool(instance_pids(invoker, "sleep")))
        (instance,) = instance_pids(invoker, "sleep")
        os.kill(_parent(instance), signal.SIGKILL)  # the template, as the OOM killer may
        failed = await asyncio.wait_for(sleeping, 10)
        error = json.loads(failed.payload)
        assert error["errorType"] == "Runtime.ExitError"
        assert error["errorMessage"].endswith("(the function's template process died)")
        again = await invoker.invoke("sleep", b'{"seconds": 0}')
        assert json.loads(again.payload) == "woke" and again.cold
        assert (await invoker.invoke("echo", b"{}")).function_error is None
        assert invoker.runtime() == ("up", 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="a uid of its own per function needs root")
async def test_code_its_own_uid_cannot_read_is_refused_with_the_reason(tmp_path: Path) -> None:
    code = tmp_path / "closed"
    code.mkdir(mode=0o700)
    (code / "handlers.py").write_text((FUNCTIONS / "handlers.py").read_text())
    async with running([fn("closed", "handlers.echo", code_dir=code)]) as invoker:
        result = await invoker.invoke("closed", b"{}")
    message = json.loads(result.payload)["errorMessage"]
    assert "Runtime failed to start: the function's sandbox: " in message
    assert f"{code} (mode 700) is not readable by the function's own uid" in message


async def test_instances_are_not_dumpable_even_without_a_sandbox(tmp_path: Path) -> None:
    """skylet unprivileged and without a sandbox: an instance's memory is closed to another
    process of its uid, as a dumpable process's is not."""
    python = unprivileged_python(tmp_path)
    settings = RuntimeSettings(sandbox=False)
    async with running([fn("echo", "handlers.echo")], settings, python=python) as invoker:
        await invoker.invoke("echo", b"{}")
        (instance,) = instance_pids(invoker, "echo")
        assert _read_memory_as_nobody(instance) == "PermissionError"
        assert _read_memory_as_nobody(None) == "read"


async def test_unprivileged_skylet_still_sandboxes_with_user_namespaces(tmp_path: Path) -> None:
    python = unprivileged_python(tmp_path)
    private = FUNCTIONS.parent / "manifests"
    functions = [fn("files", "attacks.open_files")]
    async with running(functions, python=python, hide=(private,)) as invoker:
        on = invoker.sandbox().on
        if names.USER_NS not in on:
            pytest.skip(f"no unprivileged user namespaces: {invoker.sandbox().off}")
        assert names.UID not in on and names.CPU_WEIGHT not in on
        paths = ["/proc/1/cmdline", "/tmp", str(private)]
        result = await invoker.invoke("files", json.dumps({"paths": paths}).encode())
    seen = json.loads(result.payload)
    assert "skylet.worker" in seen["/proc/1/cmdline"]  # pid 1 is the instance itself
    # A private /tmp: empty, but for the way to the function's code when the code lives under
    # /tmp (a checkout there): the view mounts the code at its own path.
    under_tmp = FUNCTIONS.resolve().is_relative_to("/tmp")
    assert seen["/tmp"] == ([FUNCTIONS.resolve().parts[2]] if under_tmp else [])
    assert seen[str(private)] == []  # hidden: an empty directory
    assert any(private.iterdir())


def _read_memory_as_nobody(pid: int | None) -> str:
    """Open /proc/PID/mem (``None``: of a ``sleep`` it starts) in a child that became nobody."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        try:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            linux.prctl(linux.PR_SET_DUMPABLE, 1)  # changing uid made this process, and so
            # a child before its exec, not dumpable
            target = subprocess.Popen(["sleep", "30"]) if pid is None else None
            with open(f"/proc/{pid or target.pid}/mem", "rb"):  # type: ignore[union-attr]
                outcome = b"read"
            if target is not None:
                target.kill()
        except PermissionError:
            outcome = b"PermissionError"
        except BaseException as exc:
            outcome = repr(exc).encode()
        os.write(write_end, outcome)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        outcome = f.read().decode()
    os.waitpid(child, 0)
    return outcome
