"""A function runs on the interpreter its runtime names: a zygote of that interpreter, started
on the first cold start that needs it, beside the platform's own."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from skylet.config import HOST_RUNTIME, RuntimeSettings
from skylet.invoker.invoker import Invoker
from skylet.observe.logs import LogBook
from skylet.pool.runtimes import OLDEST_PYTHON, PYTHON_RUNTIMES, Runtimes, python_version
from skylet.pool.sandbox import SandboxPolicy
from skylet.pool.zygotes import Zygotes
from tests.runtime_fixtures import fn

pytestmark = pytest.mark.anyio

HANDLER = """\
import os, sys

def handler(event, context):
    try:
        import pydantic
    except ModuleNotFoundError:
        platform = "hidden"
    else:
        platform = "visible"
    import boto3
    return {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "runtime_dir": os.environ["LAMBDA_RUNTIME_DIR"],
        "version": list(sys.version_info[:2]),
        "execution_env": os.environ["AWS_EXECUTION_ENV"],
        "pydantic": platform,
        "boto3": boto3.__version__,
    }
"""


def other_python() -> tuple[str, str]:
    """(runtime, path) of a Python this machine has besides the one running the tests, one
    skylet's worker runs on (on PATH, or installed by pyenv); skips where there is none."""
    host = (sys.version_info.major, sys.version_info.minor)
    for runtime in PYTHON_RUNTIMES:
        major, minor = (int(n) for n in runtime.removeprefix("python").split("."))
        if (major, minor) == host or (major, minor) < OLDEST_PYTHON:
            continue
        candidates = [shutil.which(runtime)]
        pyenv = Path.home().glob(f".pyenv/versions/{major}.{minor}*/bin/{runtime}")
        candidates += sorted(str(p) for p in pyenv)
        for candidate in candidates:
            if candidate and python_version(candidate) == (major, minor):
                return runtime, candidate
    pytest.skip("no second Python (3.11 or newer) on this machine")


async def test_a_function_runs_on_the_interpreter_its_runtime_names(tmp_path: Path) -> None:
    runtime, program = other_python()
    bin_dir = tmp_path / "bin"  # a directory on the PATH the platform was given
    bin_dir.mkdir()
    (bin_dir / runtime).symlink_to(program)
    code = tmp_path / "code"
    code.mkdir()
    (code / "where.py").write_text(HANDLER)
    zygotes = Zygotes(
        runtimes=Runtimes(search_path=str(bin_dir)),
        policy=SandboxPolicy(),
    )
    await zygotes.start()
    invoker = Invoker(RuntimeSettings(), zygotes, LogBook())
    functions = [
        fn("other", "where.handler", code_dir=code, runtime=runtime, timeout_s=30.0),
        fn("own", "where.handler", code_dir=code, timeout_s=30.0),
    ]
    try:
        await invoker.deploy(functions)
        other = await invoker.invoke("other", b"{}")
        own = await invoker.invoke("own", b"{}")
        again = await invoker.invoke("other", b"{}")
    finally:
        await invoker.aclose(grace_s=2.0)
        await zygotes.aclose()
    assert other.function_error is None, other.payload
    assert own.function_error is None, own.payload
    there, here = json.loads(other.payload), json.loads(own.payload)
    major, minor = runtime.removeprefix("python").split(".")
    assert there["executable"] == str(bin_dir / runtime)
    assert there["version"] == [int(major), int(minor)]
    assert there["execution_env"] == f"AWS_Lambda_{runtime}"
    assert there["pydantic"] == "hidden" and there["boto3"]
    assert there["runtime_dir"] == there["prefix"] != sys.prefix  # its own interpreter's
    assert here["executable"] == sys.executable
    assert here["runtime_dir"] == here["prefix"] == sys.prefix
    assert here["execution_env"] == f"AWS_Lambda_{HOST_RUNTIME}"
    assert not again.cold  # the second zygote's instance stays warm like any other
    assert len(zygotes.clients()) == 2
