"""Which interpreter runs a runtime, or why none can: the decision (pure), and its use on this
machine (real interpreters run once to learn their versions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from skylet.build.functions import build_functions
from skylet.errors import ConfigError
from skylet.manifest import load_manifest
from skylet.pool.runtimes import Launcher, RuntimeRefused, Runtimes, choose

HOST = (3, 11)
PROGRAMS = {"python3.12": "/opt/py312/bin/python3.12", "python3.13": "/usr/bin/python3.13"}
VERSIONS: dict[str, tuple[int, int] | str] = {
    "/opt/py312/bin/python3.12": (3, 12),
    "/usr/bin/python3.13": "pyenv: python3.13: command not found",
    "/srv/fake/python3.14": (3, 11),
}


def decide(runtime: str, configured: dict[str, str] | None = None) -> Launcher | str:
    return choose(
        runtime,
        host=HOST,
        host_program="/venv/bin/python",
        which=PROGRAMS.get,
        version_of=lambda program: VERSIONS.get(program, "not found"),
        configured=configured or {},
    )


@pytest.mark.parametrize(
    ("runtime", "configured", "expected"),
    [
        ("python3.11", None, Launcher("python3.11", "python", "/venv/bin/python", host=True)),
        ("python3.12", None, Launcher("python3.12", "python", "/opt/py312/bin/python3.12")),
        (
            "python3.12",
            {"python3.12": "/srv/own/python3.12"},
            "/srv/own/python3.12 does not run (not found)",
        ),
        ("python3.13", None, "/usr/bin/python3.13 does not run (pyenv: python3.13"),
        ("python3.14", None, "no python3.14 is on PATH: install Python 3.14"),
        (
            "python3.14",
            {"python3.14": "/srv/fake/python3.14"},
            "/srv/fake/python3.14 is Python 3.11, not 3.14",
        ),
        ("python3.10", None, "skylet's runtime needs Python 3.11 or newer"),
        ("python3.9", None, "python3.9 is not one Lambda offers"),
        ("nodejs20.x", None, Launcher("nodejs20.x", "nodejs", "/venv/bin/python", host=True)),
        ("nodejs18.x", None, "skylet does not run this Node.js version yet"),
        ("java21", None, "skylet does not run Java yet"),
        (
            "provided.al2023",
            None,
            Launcher("provided.al2023", "provided", "/venv/bin/python", host=True),
        ),
        ("go1.x", None, Launcher("go1.x", "provided", "/venv/bin/python", host=True)),
        ("cobol", None, "cobol is not a Lambda runtime"),
    ],
    ids=[
        "the platform's own version runs on the platform's own interpreter",
        "another version runs on the interpreter of its name on PATH",
        "a configured interpreter is used, and refused when it does not run",
        "a pyenv shim of an inactive version is refused with its answer",
        "a version not installed is refused naming what to install",
        "an interpreter that is another version than its name is refused",
        "Lambda's python3.10 is older than the worker code runs on",
        "python3.9 is no longer a Lambda runtime",
        "Node.js runs on the platform's interpreter, which serves its client the Runtime API",
        "a Node.js version skylet does not run is refused",
        "Java is refused until it runs",
        "a custom runtime runs its bootstrap from the platform's interpreter",
        "the retired go1.x runs as a custom runtime",
        "a name that is no Lambda runtime is refused",
    ],
)
def test_a_runtime_gets_its_interpreter_or_the_reason_it_cannot_run(
    runtime: str, configured: dict[str, str] | None, expected: Launcher | str
) -> None:
    got = decide(runtime, configured)
    if isinstance(expected, Launcher):
        assert got == expected
    else:
        assert isinstance(got, str) and expected in got, got


def test_the_default_runtime_is_the_newest_installed_python_lambda_offers(tmp_path: Path) -> None:
    host = f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert Runtimes(search_path=str(tmp_path)).default() == host
    newer = f"python{sys.version_info.major}.{sys.version_info.minor + 1}"
    runtimes = Runtimes(search_path=str(tmp_path), configured={newer: sys.executable})
    # The configured interpreter is this one, another version than its name: refused.
    assert isinstance(runtimes.choose(newer), str)
    assert runtimes.default() == host


def test_a_refused_runtime_raises_a_config_error_saying_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(RuntimeRefused, match=r"install Python 3\.14"):
        Runtimes(search_path=str(tmp_path)).launcher("python3.14")


MANIFEST = """
service: svc
provider:
  name: aws
  runtime: {runtime}
functions:
  work:
    handler: app.work
"""


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("runtime", "reason"),
    [("python3.14", "install Python 3.14")],
)
async def test_a_manifest_whose_runtime_cannot_run_is_refused_at_load(
    tmp_path: Path, runtime: str, reason: str
) -> None:
    (tmp_path / "serverless.yml").write_text(MANIFEST.format(runtime=runtime))
    manifest = load_manifest(tmp_path / "serverless.yml")
    runtimes = Runtimes(search_path=str(tmp_path / "empty"))
    with pytest.raises(ConfigError, match=f"functions.work: runtime {runtime}.*{reason}"):
        await build_functions(
            manifest,
            deps_root=tmp_path / "d",
            interpreter=lambda name: runtimes.launcher(name).program,
        )
