"""A function's imports are its own, as on Lambda: the standard library, boto3 and its
dependencies, its code and requirements; never the platform's packages, and its own version of
a module the runtime itself uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runtime_fixtures import fn, running

pytestmark = pytest.mark.anyio

HANDLER = """\
import importlib, importlib.metadata, sys

def handler(event, context):
    found = {}
    for name in event["modules"]:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            found[name] = "ModuleNotFoundError: " + str(exc)
        else:
            found[name] = getattr(module, "WHOSE", None) or getattr(module, "__file__", "")
    versions = {}
    for name in event.get("distributions", []):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {"found": found, "versions": versions, "path": sys.path}
"""


def _function(tmp_path: Path, name: str, *, vendored: tuple[str, ...] = ()) -> object:
    code = tmp_path / name / "code"
    code.mkdir(parents=True)
    (code / "probe.py").write_text(HANDLER)
    deps = tmp_path / name / "deps"
    deps.mkdir()
    for module in vendored:  # a tiny package of the function's own, as pip would install it
        (deps / module).mkdir()
        (deps / module / "__init__.py").write_text(f'WHOSE = "the function\'s own {module}"\n')
    return fn(name, "probe.handler", code_dir=code, extra_path=(str(deps),))


async def _probe(tmp_path: Path, event: dict[str, object], **kwargs: object) -> dict[str, object]:
    function = _function(tmp_path, "probe", **kwargs)  # type: ignore[arg-type]
    async with running([function]) as invoker:  # type: ignore[list-item]
        result = await invoker.invoke("probe", json.dumps(event).encode())
    assert result.function_error is None, result.payload
    answer: dict[str, object] = json.loads(result.payload)
    return answer


@pytest.mark.parametrize(
    "module",
    ["pydantic", "yaml", "httpx", "click", "rich", "uvicorn", "skylet.platform", "skylet.cli"],
)
async def test_a_function_cannot_import_what_only_the_platform_has(
    tmp_path: Path, module: str
) -> None:
    found = (await _probe(tmp_path, {"modules": [module]}))["found"]
    assert isinstance(found, dict)
    assert str(found[module]).startswith("ModuleNotFoundError"), found


async def test_a_function_imports_the_skylet_modules_made_for_functions(tmp_path: Path) -> None:
    modules = ["skylet", "skylet.storage", "skylet.arns"]
    found = (await _probe(tmp_path, {"modules": modules}))["found"]
    assert isinstance(found, dict)
    assert all(not str(found[m]).startswith("ModuleNotFoundError") for m in modules), found


async def test_a_function_imports_boto3_and_its_dependencies_as_on_lambda(tmp_path: Path) -> None:
    modules = ["boto3", "botocore.session", "s3transfer", "jmespath", "dateutil.parser", "urllib3"]
    answer = await _probe(
        tmp_path, {"modules": modules, "distributions": ["boto3", "botocore", "pydantic"]}
    )
    found, versions = answer["found"], answer["versions"]
    assert isinstance(found, dict) and isinstance(versions, dict)
    assert all(not str(found[m]).startswith("ModuleNotFoundError") for m in modules), found
    import boto3

    assert versions == {
        "boto3": boto3.__version__,
        "botocore": versions["botocore"],
        "pydantic": None,
    }
    assert versions["botocore"]


@pytest.mark.parametrize("module", ["orjson", "werkzeug", "cloudevents", "boto3"])
async def test_a_function_gets_its_own_version_of_a_module_the_runtime_uses(
    tmp_path: Path, module: str
) -> None:
    found = (await _probe(tmp_path, {"modules": [module]}, vendored=(module,)))["found"]
    assert found == {module: f"the function's own {module}"}


async def test_the_import_path_holds_the_functions_directories_and_the_standard_library(
    tmp_path: Path,
) -> None:
    path = (await _probe(tmp_path, {"modules": []}))["path"]
    assert isinstance(path, list)
    assert path[0].endswith("/code") and path[1].endswith("/deps")
    assert not [p for p in path if "site-packages" in p or p.endswith("/src")], path


async def test_a_function_that_does_not_vendor_them_cannot_import_the_runtimes_libraries(
    tmp_path: Path,
) -> None:
    modules = ["orjson", "werkzeug", "cloudevents", "markupsafe"]
    found = (await _probe(tmp_path, {"modules": modules}))["found"]
    assert isinstance(found, dict)
    assert all(str(found[m]).startswith("ModuleNotFoundError") for m in modules), found
