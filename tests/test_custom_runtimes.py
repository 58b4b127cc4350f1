"""Which runtimes run a bootstrap, and what their instances execute."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet import custom_runtimes


@pytest.mark.parametrize(
    ("runtime", "kind"),
    [
        ("python3.11", "python"),
        ("provided", "provided"),
        ("provided.al2", "provided"),
        ("provided.al2023", "provided"),
        ("go1.x", "provided"),
        ("nodejs20.x", "nodejs"),
        ("nodejs22.x", "nodejs"),
    ],
    ids=lambda value: value,
)
def test_each_runtime_is_run_by_its_kind(runtime: str, kind: str) -> None:
    assert custom_runtimes.kind(runtime) == kind


def test_a_provided_function_executes_its_codes_bootstrap(tmp_path: Path) -> None:
    argv = custom_runtimes.bootstrap_argv("provided.al2023", "x.y", tmp_path, None)
    assert argv == [str(tmp_path / "bootstrap")]


def test_go1x_runs_the_handlers_executable_when_the_code_has_no_bootstrap(tmp_path: Path) -> None:
    assert custom_runtimes.bootstrap_argv("go1.x", "hello", tmp_path, None) == []  # Python's
    (tmp_path / "hello").write_text("")
    (tmp_path / "hello").chmod(0o755)
    assert custom_runtimes.bootstrap_argv("go1.x", "hello", tmp_path, None) == [
        str(tmp_path / "hello")
    ]
    (tmp_path / "bootstrap").write_text("")
    assert custom_runtimes.bootstrap_argv("go1.x", "hello", tmp_path, None) == [
        str(tmp_path / "bootstrap")
    ]
    assert "provided.al2023" in (custom_runtimes.note("go1.x") or "")
    assert custom_runtimes.note("provided.al2") is None


def test_nodejs_prefers_the_aws_client_the_code_brings(tmp_path: Path) -> None:
    ours = custom_runtimes.bootstrap_argv("nodejs20.x", "index.handler", tmp_path, "/n/node")
    assert ours == ["/n/node", str(custom_runtimes.NODE_BOOTSTRAP), "index.handler"]
    assert custom_runtimes.NODE_BOOTSTRAP.is_file()
    ric = tmp_path / custom_runtimes.NODE_RIC
    ric.parent.mkdir(parents=True)
    ric.write_text("")
    theirs = custom_runtimes.bootstrap_argv("nodejs22.x", "index.handler", tmp_path, "/n/node")
    assert theirs == ["/n/node", str(ric), "index.handler"]


def test_python_runs_no_bootstrap(tmp_path: Path) -> None:
    assert custom_runtimes.bootstrap_argv("python3.12", "app.main", tmp_path, None) == []


def test_a_python_function_whose_layers_bring_extensions_runs_as_a_runtime_api_client(
    tmp_path: Path,
) -> None:
    opt = tmp_path / "opt"
    assert (
        custom_runtimes.bootstrap_argv(
            "python3.11", "a.b", tmp_path, None, opt_dir=str(opt), python="/py"
        )
        == []
    )
    (opt / "extensions").mkdir(parents=True)
    (opt / "extensions" / "readme.txt").write_text("not an executable")
    assert not custom_runtimes.has_extensions(str(opt))
    (opt / "extensions" / "ext").write_text("")
    (opt / "extensions" / "ext").chmod(0o755)
    assert custom_runtimes.has_extensions(str(opt))
    argv = custom_runtimes.bootstrap_argv(
        "python3.11", "a.b", tmp_path, None, opt_dir=str(opt), python="/py"
    )
    assert argv == ["/py", "-m", "skylet.worker.python_bootstrap", "a.b"]
