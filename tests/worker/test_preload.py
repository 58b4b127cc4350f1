"""A function's template imports its style's framework from the function's own requirements
before it forks instances (skylet.worker.preload): only what the function's path provides,
never its handler's module, and all or nothing."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from skylet.worker import preload
from skylet.worker.http_envelope import EnvelopeRequest, decode_request
from skylet.worker.web import flask_bridge
from tests.runtime_fixtures import fn, requirements_dir, running
from tests.worker.http_client import answer, envelope

# -- the decision, in this process, over packages made for each test -------------------------


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory to write packages into, on the import path (as a template's function
    directories are), the style ``test`` preloading ``fw_a`` then ``fw_b.sub``, and
    ``sys.modules`` as it was afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(preload, "PRELOADS", {"test": ("fw_a", "fw_b.sub"), "lambda": ()})
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    importlib.invalidate_caches()


def _package(root: Path, name: str, code: str = "", sub: str | None = None) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(code)
    if sub is not None:
        (root / name / f"{sub}.py").write_text("")


def test_only_the_modules_the_functions_path_provides_are_preloaded(packages: Path) -> None:
    _package(packages, "fw_a")
    loaded = preload.preload("test", [str(packages)], "main.handler")
    assert loaded == preload.Preloaded(modules=("fw_a",), absent=("fw_b.sub",))
    assert "fw_a" in sys.modules and "fw_b" not in sys.modules


def test_a_submodule_is_preloaded_with_its_package(packages: Path) -> None:
    _package(packages, "fw_b", sub="sub")
    loaded = preload.preload("test", [str(packages)], "main.handler")
    assert loaded.modules == ("fw_b.sub",)
    assert "fw_b.sub" in sys.modules


def test_a_module_outside_the_functions_path_is_not_preloaded(packages: Path) -> None:
    _package(packages, "fw_a")  # importable here, but not from the function's directories
    loaded = preload.preload("test", [str(packages / "elsewhere")], "main.handler")
    assert loaded.modules == () and "fw_a" not in sys.modules


def test_the_handlers_own_module_is_never_preloaded(packages: Path) -> None:
    _package(packages, "fw_a", code="raise RuntimeError('the init ran')")
    loaded = preload.preload("test", [str(packages)], "fw_a/app.handler")
    assert loaded == preload.Preloaded(absent=("fw_b.sub",))


def test_a_lambda_style_function_preloads_nothing(packages: Path) -> None:
    _package(packages, "fw_a")
    assert preload.preload("lambda", [str(packages)], "main.handler") == preload.Preloaded()


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("import a_dependency_that_is_missing", "ModuleNotFoundError: No module named"),
        ("raise RuntimeError('broken')", "RuntimeError: broken"),
        ("raise SystemExit(3)", "SystemExit: 3"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt: KeyboardInterrupt"),
    ],
    ids=["a missing dependency", "an exception", "an exit", "an interrupt"],
)
def test_a_package_that_fails_at_import_is_undone_whole(
    packages: Path, code: str, error: str
) -> None:
    _package(packages, "fw_a", code="import fw_helper\n")
    (packages / "fw_helper.py").write_text("")
    _package(packages, "fw_b", code=code, sub="sub")
    loaded = preload.preload("test", [str(packages)], "main.handler")
    assert loaded.modules == () and str(loaded.error).startswith(error), loaded
    assert not {"fw_a", "fw_helper", "fw_b", "fw_b.sub"} & set(sys.modules)


def test_a_preload_past_its_limit_is_undone(packages: Path) -> None:
    _package(packages, "fw_a", code="while True:\n    pass\n")
    loaded = preload.preload("test", [str(packages)], "main.handler", limit_s=0.2)
    assert loaded.error == "PreloadTimedOut: took more than 0.2 s"
    assert "fw_a" not in sys.modules


# -- in a function's template: real zygote, real instances ------------------------------------

FRAMEWORKS = ("functions_framework", "flask", "werkzeug", "cloudevents.http")
#: Prints, at its import, which frameworks were already loaded: its template's preload.
PROBE = f"""\
import sys

print("PRELOADED", [n for n in {FRAMEWORKS!r} if n in sys.modules])


def handler(*args):
    return "OK"
"""


def _code(tmp_path: Path, name: str, source: str) -> Path:
    code = tmp_path / name
    code.mkdir()
    (code / "probe.py").write_text(source)
    return code


def _preloaded(log: str) -> list[str]:
    line = next(line for line in log.splitlines() if line.startswith("PRELOADED "))
    found: list[str] = json.loads(line.removeprefix("PRELOADED ").replace("'", '"'))
    return found


def _request(style: str) -> bytes:
    if style == "lambda":
        return b"{}"
    if style == "background":
        context = {"eventId": "1", "timestamp": "", "eventType": "t", "resource": {}}
        return json.dumps({"data": {}, "context": context}).encode()
    if style == "cloudevent":
        headers = {
            "ce-specversion": "1.0",
            "ce-id": "1",
            "ce-source": "/test",
            "ce-type": "t",
            "content-type": "application/json",
        }
        return envelope("POST", "http://h/", headers=headers, content=b"{}")
    return envelope("GET", "http://h/")


@pytest.mark.parametrize(
    ("style", "distributions", "preloaded"),
    [
        ("lambda", ("functions-framework",), []),
        (  # functions-framework brings the CloudEvents SDK too
            "http",
            ("functions-framework",),
            ["functions_framework", "flask", "werkzeug", "cloudevents.http"],
        ),
        ("http", ("werkzeug",), ["werkzeug"]),
        ("http", ("flask",), ["flask", "werkzeug"]),
        ("cloudevent", ("cloudevents",), ["cloudevents.http"]),
        ("cloudevent", (), []),
        (
            "background",
            ("functions-framework",),
            ["functions_framework", "flask", "werkzeug", "cloudevents.http"],
        ),
    ],
    ids=[
        "a Lambda style function: nothing",
        "a Cloud Functions HTTP function: functions-framework and what it imports",
        "an HTTP function with werkzeug alone: werkzeug",
        "an HTTP function with Flask: Flask and its werkzeug",
        "a CloudEvent function: the cloudevents SDK",
        "a function that declares nothing: nothing",
        "a background function: functions-framework and what it imports",
    ],
)
@pytest.mark.anyio
async def test_each_style_preloads_its_framework_from_the_functions_requirements(
    tmp_path: Path, style: str, distributions: tuple[str, ...], preloaded: list[str]
) -> None:
    deps = (requirements_dir(*distributions),) if distributions else ()
    code = _code(tmp_path, "code", PROBE)
    config = fn("probe", "probe.handler", style=style, code_dir=code, extra_path=deps)
    async with running([config]) as invoker:
        result = await invoker.invoke("probe", _request(style))
    assert result.function_error is None, result.payload
    assert _preloaded(result.log) == preloaded


OWN_FLASK = """\
import sys

PRELOADED = "flask" in sys.modules
import flask


def handler(request):
    return flask.jsonify(
        whose=getattr(flask, "WHOSE", None),
        preloaded=PRELOADED,
        file=flask.__file__,
        request=isinstance(request, flask.Request),
    )
"""


@pytest.mark.anyio
async def test_a_function_that_pins_its_own_flask_gets_its_own(tmp_path: Path) -> None:
    import flask

    own = tmp_path / "own"
    shutil.copytree(Path(flask.__file__).parent, own / "flask")
    with (own / "flask" / "__init__.py").open("a") as init:
        init.write('\nWHOSE = "the function\'s own flask"\n')
    code = _code(tmp_path, "code", OWN_FLASK)
    deps = (str(own), requirements_dir("flask"))
    config = fn("own", "probe.handler", style="http", code_dir=code, extra_path=deps)
    async with running([config]) as invoker:
        result = await invoker.invoke("own", envelope("GET", "http://h/"))
    status, _, body = answer(result)
    assert status == 200
    assert json.loads(body) == {
        "whose": "the function's own flask",
        "preloaded": True,
        "file": str(own / "flask" / "__init__.py"),
        "request": True,  # the bridge made its request with the function's own Flask
    }


@pytest.mark.parametrize(
    ("code", "error_type", "message"),
    [
        (
            "import a_dependency_that_is_missing\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'probe': No module named 'a_dependency_that_is_missing'",
        ),
        ("raise RuntimeError('broken at import')\n", "RuntimeError", "broken at import"),
    ],
    ids=["a missing dependency", "an exception at import"],
)
@pytest.mark.anyio
async def test_a_broken_framework_fails_the_functions_init_not_its_template(
    tmp_path: Path, code: str, error_type: str, message: str
) -> None:
    deps = tmp_path / "deps"
    (deps / "functions_framework").mkdir(parents=True)
    (deps / "functions_framework" / "__init__.py").write_text(code)
    uses = _code(tmp_path, "uses", "import functions_framework\n" + PROBE)
    ignores = _code(tmp_path, "ignores", PROBE)
    functions = [
        fn("uses", "probe.handler", style="http", code_dir=uses, extra_path=(str(deps),)),
        fn("ignores", "probe.handler", style="http", code_dir=ignores, extra_path=(str(deps),)),
    ]
    async with running(functions) as invoker:
        failed = [await invoker.invoke("uses", _request("http")) for _ in range(2)]
        served = await invoker.invoke("ignores", _request("http"))
    for result in failed:  # each cold start, from a template still serving
        assert result.function_error == "Unhandled"
        error = json.loads(result.payload)
        assert (error["errorType"], error["errorMessage"]) == (error_type, message)
    assert answer(served)[2] == b"OK"
    assert _preloaded(served.log) == []  # the preload was undone


# -- the Flask bridge a template makes for its instances --------------------------------------


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("flask")
    monkeypatch.setattr(flask_bridge, "_prepared", None)


def _get() -> EnvelopeRequest:
    return decode_request(envelope("GET", "http://h/"))


@pytest.mark.usefixtures("prepared")
def test_an_instance_takes_the_bridge_its_template_made_and_rehearsed() -> None:
    flask_bridge.prepare("main", _get())
    taken = flask_bridge.bridge("main")
    assert taken is flask_bridge.bridge("main")
    status, _, body = taken.answer(_get(), lambda request: "hi")
    assert (status, body) == (200, b"hi")


@pytest.mark.usefixtures("prepared")
def test_a_bridge_made_for_another_module_or_flask_is_not_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flask_bridge.prepare("main", _get())
    made = flask_bridge.bridge("main")
    assert flask_bridge.bridge("other") is not made
    monkeypatch.setitem(sys.modules, "flask", importlib.import_module("flask"))
    monkeypatch.setattr(made, "flask", object())  # as if made with another copy of Flask
    assert flask_bridge.bridge("main") is not made


@pytest.mark.usefixtures("prepared")
def test_a_rehearsal_that_fails_leaves_each_instance_to_make_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: flask_bridge.FlaskBridge, *args: object) -> None:
        raise SystemExit(3)

    monkeypatch.setattr(flask_bridge.FlaskBridge, "answer", broken)
    flask_bridge.prepare("main", _get())
    assert flask_bridge._prepared is None


def test_what_a_preloaded_package_prints_is_discarded(
    packages: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # As a template's sys.stdout and sys.stderr write: straight to fd 1 and 2.
    _package(packages, "fw_a", code="import os\nos.write(1, b'out')\nos.write(2, b'err')\n")
    assert preload.preload("test", [str(packages)], "main.handler").modules == ("fw_a",)
    os.write(1, b"after")
    assert capfd.readouterr() == ("after", "")
