"""Finding a manifest, choosing its format, and skylet.yaml's own rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import MANIFEST_NAMES, find_manifest, load_manifest


@pytest.mark.parametrize(
    ("present", "found"),
    [
        pytest.param(["serverless.yml", "skylet.yaml"], "skylet.yaml", id="skylet.yaml first"),
        pytest.param(
            ["serverless.yaml", "skylet.yml"], "skylet.yml", id="skylet.yml before serverless"
        ),
        pytest.param(["serverless.yaml", "serverless.yml"], "serverless.yml", id="yml before yaml"),
        pytest.param(["serverless.yaml"], "serverless.yaml", id="serverless.yaml last"),
    ],
)
def test_find_manifest_prefers_names_in_order(
    tmp_path: Path, present: list[str], found: str
) -> None:
    for name in present:
        (tmp_path / name).write_text("service: s\n")
    assert find_manifest(tmp_path) == tmp_path / found


def test_find_manifest_without_a_manifest_lists_the_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no manifest found \(allowed: skylet.yaml, skylet.yml"):
        find_manifest(tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        find_manifest(tmp_path / "missing")
    assert MANIFEST_NAMES[0] == "skylet.yaml"


@pytest.mark.parametrize(
    ("name", "text", "format"),
    [
        pytest.param("serverless.yml", "service: s\n", "serverless", id="serverless by name"),
        pytest.param("skylet.yml", "service: s\n", "skylet", id="skylet by name"),
        pytest.param(
            "prod.yml",
            "service: s\nprovider: {name: aws}\n",
            "serverless",
            id="provider means serverless",
        ),
        pytest.param("prod.yml", "service: s\nstage: prod\n", "skylet", id="otherwise skylet"),
    ],
)
def test_format_follows_the_file_name_then_the_content(
    write: Callable[..., Path], name: str, text: str, format: str
) -> None:
    assert load_manifest(write(text, name)).format == format


def test_an_empty_manifest_is_an_error(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match=r"^serverless.yml:1: the manifest is empty$"):
        load_manifest(write("# nothing here\n"))


def test_skylet_defaults_apply_unless_a_function_overrides(write: Callable[..., Path]) -> None:
    text = """service: shop
stage: ${opt:stage, 'dev'}
defaults:
  runtime: python3.12
  style: http
  memory_size: 512
  timeout_s: 10.5
  maximum_event_age_s: 600
  environment: {LOG_LEVEL: info, SHARED: yes}
functions:
  api: handlers/api.app
  worker:
    handler: handlers/worker.main
    name: shop-worker
    style: lambda
    memory_size: 1024
    environment: {LOG_LEVEL: debug}
"""
    manifest = load_manifest(write(text, "skylet.yaml"), stage="prod")
    api, worker = manifest.functions["api"], manifest.functions["worker"]
    assert (api.name, api.runtime, api.style, api.memory_size, api.timeout_s) == (
        "api",
        "python3.12",
        "http",
        512,
        10.5,
    )
    assert api.maximum_event_age_s == 600
    assert (worker.name, worker.style, worker.memory_size) == ("shop-worker", "lambda", 1024)
    assert worker.environment == {"LOG_LEVEL": "debug", "SHARED": "yes"}
    assert manifest.function("shop-worker") is worker


def test_skylet_code_directories_are_absolute(write: Callable[..., Path]) -> None:
    path = write(
        (
            "service: s\n"
            "defaults:\n"
            "  code: src\n"
            "functions:\n"
            "  a: app.main\n"
            "  b: {handler: b.main, code: other}\n"
        ),
        "skylet.yaml",
    )
    (path.parent / "src").mkdir()
    (path.parent / "other").mkdir()
    manifest = load_manifest(path)
    assert manifest.functions["a"].code_dir == path.parent / "src"
    assert manifest.functions["b"].code_dir == path.parent / "other"


def test_lambda_defaults_for_skylet_and_framework_defaults_for_serverless(
    write: Callable[..., Path],
) -> None:
    ours = load_manifest(write("service: s\nfunctions:\n  f: app.main\n", "skylet.yaml"))
    theirs = load_manifest(write("service: s\nfunctions:\n  f: {handler: app.main}\n"))
    assert (ours.functions["f"].memory_size, ours.functions["f"].timeout_s) == (128, 3)
    assert (theirs.functions["f"].memory_size, theirs.functions["f"].timeout_s) == (1024, 6)
    assert (ours.stage, ours.region) == (theirs.stage, theirs.region) == ("dev", "us-east-1")


def test_custom_runtimes_take_any_handler(write: Callable[..., Path]) -> None:
    text = "service: s\nfunctions:\n  go:\n    handler: bootstrap\n    runtime: provided.al2\n"
    assert load_manifest(write(text, "skylet.yaml")).functions["go"].handler == "bootstrap"


@pytest.mark.parametrize("runtime", ["go1.x", "nodejs20.x", "nodejs22.x", "provided"])
def test_go_and_nodejs_runtimes_load(write: Callable[..., Path], runtime: str) -> None:
    text = f"service: s\nfunctions:\n  f:\n    handler: index.handler\n    runtime: {runtime}\n"
    manifest = load_manifest(write(text, "skylet.yaml"))
    assert manifest.functions["f"].runtime == runtime
    notes = [str(w) for w in manifest.warnings]
    assert any("go1.x is retired" in n for n in notes) == (runtime == "go1.x")


def test_a_package_artifact_is_the_functions_code_and_must_exist(
    write: Callable[..., Path],
) -> None:
    path = write("service: s\npackage: {artifact: all.zip}\nfunctions:\n  f: {handler: a.b}\n")
    (path.parent / "all.zip").write_bytes(b"")
    (path.parent / "own.zip").write_bytes(b"")
    assert load_manifest(path).functions["f"].artifact == (path.parent / "all.zip").resolve()
    own = "  g: {handler: a.b, package: {artifact: own.zip, patterns: ['!**']}}\n"
    path.write_text(path.read_text() + own)
    assert load_manifest(path).functions["g"].artifact == (path.parent / "own.zip").resolve()
    path.write_text("service: s\nfunctions:\n  f: {handler: a.b, package: {artifact: gone.zip}}\n")
    with pytest.raises(ConfigError, match=r"functions\.f\.package\.artifact: 'gone\.zip' is not"):
        load_manifest(path)


def test_serverless_keeps_the_iam_and_ignores_package_and_plugins(
    write: Callable[..., Path],
) -> None:
    text = """service: s
plugins: [serverless-offline]
package: {individually: true}
provider:
  name: aws
  architecture: arm64
  iam:
    role:
      statements: [{Effect: Allow, Action: ['sqs:*'], Resource: '*'}]
functions:
  f:
    handler: app.main
    layers: [arn:aws:lambda:us-east-1:1:layer:x:1]
    tags: {team: core}
"""
    manifest = load_manifest(write(text))
    assert manifest.iam["role"]["statements"][0]["Action"] == ("sqs:*",)


def test_resources_may_be_a_list_of_fragments(write: Callable[..., Path]) -> None:
    text = """service: s
resources:
  - Resources:
      A: {Type: AWS::SQS::Queue}
  - Resources:
      B: {Type: AWS::SNS::Topic}
    Outputs:
      BArn: {Value: !Ref B}
"""
    manifest = load_manifest(write(text))
    assert list(manifest.resources) == ["A", "B"]
    assert set(manifest.outputs) == {"BArn"}


def test_a_resource_declared_twice_across_fragments_is_an_error(write: Callable[..., Path]) -> None:
    text = (
        "service: s\n"
        "resources:\n"
        "  - Resources:\n"
        "      A: {Type: AWS::SQS::Queue}\n"
        "  - Resources:\n"
        "      A: {Type: AWS::SQS::Queue}\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"serverless.yml:6: resources\[1\].Resources.A: resource A is declared twice",
    ):
        load_manifest(write(text))


def test_the_skylet_yaml_example_in_the_docs_loads(tmp_path: Path) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "manifest.md"
    text = docs.read_text(encoding="utf-8")
    start = text.index("```yaml\nservice: shop") + len("```yaml\n")
    (tmp_path / "skylet.yaml").write_text(text[start : text.index("```", start)])
    (tmp_path / "src").mkdir()
    manifest = load_manifest(tmp_path / "skylet.yaml", stage="prod")
    assert manifest.functions["api"].code_dir == tmp_path / "src"
    assert manifest.functions["on_order"].environment["TABLE_NAME"] == "orders-prod"
    assert [e.kind for e in manifest.functions["api"].events] == ["http_api", "http"]


def test_a_rest_apis_binary_media_types_come_from_either_format(
    write: Callable[..., Path],
) -> None:
    serverless = write(
        """
        service: s
        provider:
          name: aws
          apiGateway:
            binaryMediaTypes: ["image/*", "application/octet-stream", "*/*"]
        """
    )
    assert load_manifest(serverless).binary_media_types == (
        "image/*",
        "application/octet-stream",
        "*/*",
    )
    own = write("service: s\nbinary_media_types: [image/png]\n", name="skylet.yaml")
    assert load_manifest(own).binary_media_types == ("image/png",)
    # Not configured: skylet's defaults (docs/http.md), not API Gateway's empty list.
    assert load_manifest(write("service: s\n", name="skylet.yaml")).binary_media_types is None


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("[png]", "binary_media_types[0]: 'png' does not have the expected form"),
        ("image/png", "binary_media_types: 'image/png' is not a list"),
    ],
    ids=["not_a_media_type", "not_a_list"],
)
def test_binary_media_types_that_are_not_media_types_are_errors(
    write: Callable[..., Path], value: str, fragment: str
) -> None:
    path = write(f"service: s\nbinary_media_types: {value}\n", name="skylet.yaml")
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        load_manifest(path)
