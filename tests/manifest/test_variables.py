"""Serverless variables: sources, fallbacks, types, nesting, stage precedence and cycles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from skylet.errors import ConfigError
from skylet.manifest import LOCAL_ACCOUNT_ID, Intrinsic, load_manifest


@pytest.fixture
def custom(write: Callable[..., Path]) -> Callable[..., Mapping[str, Any]]:
    """Load a serverless.yml whose body is ``text`` and return its resolved ``custom``."""

    def _custom(text: str, **kwargs: Any) -> Mapping[str, Any]:
        return load_manifest(write("service: svc\n" + text), **kwargs).custom

    return _custom


def test_variable_embedded_in_a_string(custom: Callable[..., Mapping[str, Any]]) -> None:
    text = "provider:\n  stage: qa\ncustom:\n  bucket: my-bucket-${self:provider.stage}-x\n"
    assert custom(text)["bucket"] == "my-bucket-qa-x"


def test_whole_value_variable_keeps_the_referenced_type(
    custom: Callable[..., Mapping[str, Any]],
) -> None:
    text = """custom:
  settings: {memory: 512, on: true, tags: [a, b]}
  memory: ${self:custom.settings.memory}
  flag: ${self:custom.settings.on}
  copy: ${self:custom.settings}
  second_tag: ${self:custom.settings.tags.1}
"""
    resolved = custom(text)
    assert resolved["memory"] == 512
    assert resolved["flag"] is True
    assert resolved["copy"] == {"memory": 512, "on": True, "tags": ("a", "b")}
    assert resolved["second_tag"] == "b"


def test_whole_value_number_flows_into_function_settings(write: Callable[..., Path]) -> None:
    text = """service: svc
custom:
  memory: 2048
functions:
  api:
    handler: app.main
    memorySize: ${self:custom.memory}
    timeout: ${opt:timeout, 20}
"""
    api = load_manifest(write(text)).functions["api"]
    assert (api.memory_size, api.timeout_s) == (2048, 20)


def test_embedded_scalars_are_stringified_as_javascript_would(
    custom: Callable[..., Mapping[str, Any]],
) -> None:
    text = "custom:\n  on: true\n  n: 1.0\n  s: ${self:custom.on}/${self:custom.n}\n"
    assert custom(text)["s"] == "true/1"


@pytest.mark.parametrize(
    ("expression", "options", "env", "expected"),
    [
        pytest.param("${opt:size, 'small'}", {}, {}, "small", id="single-quoted default"),
        pytest.param('${opt:size, "big"}', {}, {}, "big", id="double-quoted default"),
        pytest.param("${opt:size, 'a, {b}'}", {}, {}, "a, {b}", id="default with comma and braces"),
        pytest.param(
            "${opt:size, 'small'}", {"size": "huge"}, {}, "huge", id="option beats default"
        ),
        pytest.param("${opt:size, 10}", {}, {}, 10, id="numeric default keeps its type"),
        pytest.param("${opt:size, 2.5}", {}, {}, 2.5, id="decimal default"),
        pytest.param("${opt:flag, false}", {}, {}, False, id="boolean default"),
        pytest.param(
            "${env:HOME_DIR, '/tmp'}",
            {},
            {"HOME_DIR": "/home/x"},
            "/home/x",
            id="env var beats default",
        ),
        pytest.param("${env:HOME_DIR, '/tmp'}", {}, {}, "/tmp", id="unset env var uses default"),
        pytest.param(
            "${opt:x, env:Y, 'z'}", {}, {"Y": "from-env"}, "from-env", id="second fallback"
        ),
        pytest.param("${opt:x, env:Y, 'z'}", {}, {}, "z", id="last fallback"),
        pytest.param(
            "${opt:x, ${env:Y, 'inner'}}", {}, {}, "inner", id="nested variable as default"
        ),
        pytest.param(
            "${opt:x, ${env:Y, 'inner'}}", {}, {"Y": "y"}, "y", id="nested variable resolves"
        ),
        pytest.param(
            "${opt:x, self:custom.base}", {}, {}, "base-value", id="self reference as default"
        ),
        pytest.param(
            "${self:custom.by.${opt:tier, 'low'}}",
            {"tier": "high"},
            {},
            "H",
            id="variable inside an address",
        ),
        pytest.param(
            "${self:custom.by.${opt:tier, 'low'}}", {}, {}, "L", id="default inside an address"
        ),
        pytest.param(
            "${ssm:/db/password, 'local-secret'}",
            {},
            {},
            "local-secret",
            id="unavailable source uses default",
        ),
        pytest.param(
            "${strToBool(${env:FLAG, 'false'})}", {}, {"FLAG": "true"}, True, id="string to boolean"
        ),
        pytest.param("${aws:accountId}", {}, {}, LOCAL_ACCOUNT_ID, id="local account id"),
        pytest.param("${self:service}-${sls:stage}", {}, {}, "svc-dev", id="service and stage"),
    ],
)
def test_variable_sources_and_fallbacks(
    custom: Callable[..., Mapping[str, Any]],
    expression: str,
    options: dict[str, str],
    env: dict[str, str],
    expected: Any,
) -> None:
    text = f"custom:\n  base: base-value\n  by: {{low: L, high: H}}\n  value: {expression}\n"
    assert custom(text, options=options, env=env)["value"] == expected


def test_null_default_removes_an_environment_variable(write: Callable[..., Path]) -> None:
    text = """service: svc
provider:
  environment:
    KEEP: kept
    DROP: ${env:OPTIONAL, null}
functions:
  api: {handler: app.main}
"""
    assert load_manifest(write(text)).functions["api"].environment == {"KEEP": "kept"}


@pytest.mark.parametrize(
    ("provider_stage", "cli_stage", "expected"),
    [
        pytest.param("stage: ${opt:stage, 'dev'}", None, "dev", id="option default"),
        pytest.param(
            "stage: ${opt:stage, 'dev'}", "prod", "prod", id="cli stage through the option"
        ),
        pytest.param("stage: staging", None, "staging", id="literal provider stage"),
        pytest.param(
            "stage: staging", "prod", "prod", id="cli stage beats a literal provider stage"
        ),
        pytest.param("region: eu-west-1", None, "dev", id="no provider stage means dev"),
        pytest.param("region: eu-west-1", "prod", "prod", id="cli stage without a provider stage"),
    ],
)
def test_self_provider_stage_sees_the_resolved_stage(
    write: Callable[..., Path], provider_stage: str, cli_stage: str | None, expected: str
) -> None:
    text = f"service: svc\nprovider:\n  {provider_stage}\ncustom:\n  s: ${{self:provider.stage}}\n"
    manifest = load_manifest(write(text), stage=cli_stage)
    assert manifest.stage == expected
    assert manifest.custom["s"] == expected


def test_region_option_overrides_provider_region(write: Callable[..., Path]) -> None:
    text = (
        "service: svc\n"
        "provider:\n"
        "  region: eu-west-1\n"
        "custom:\n"
        "  r: ${aws:region}/${self:provider.region}\n"
    )
    assert load_manifest(write(text)).custom["r"] == "eu-west-1/eu-west-1"
    manifest = load_manifest(write(text), options={"region": "ap-south-1"})
    assert manifest.region == "ap-south-1"
    assert manifest.custom["r"] == "ap-south-1/ap-south-1"


def test_params_follow_the_stage_then_default(custom: Callable[..., Mapping[str, Any]]) -> None:
    text = """params:
  default: {domain: dev.example.com, team: core}
  prod: {domain: example.com}
custom:
  domain: ${param:domain}
  team: ${param:team}
"""
    assert custom(text) == {"domain": "dev.example.com", "team": "core"}
    assert custom(text, stage="prod") == {"domain": "example.com", "team": "core"}


def test_file_variables_read_yaml_and_resolve_inside_it(write: Callable[..., Path]) -> None:
    path = write("service: svc\ncustom:\n  db: ${file(./config/${sls:stage}.yml):database}\n")
    (path.parent / "config").mkdir()
    (path.parent / "config" / "dev.yml").write_text(
        "database:\n  host: db-${opt:stage, 'dev'}\n  port: 5432\n  arn: !GetAtt Db.Arn\n"
    )
    assert load_manifest(path).custom["db"] == {
        "host": "db-dev",
        "port": 5432,
        "arn": Intrinsic("Fn::GetAtt", ("Db", "Arn")),
    }


def test_a_chain_of_references_resolves(custom: Callable[..., Mapping[str, Any]]) -> None:
    text = "custom:\n  a: ${self:custom.b}\n  b: ${self:custom.c}-b\n  c: ${opt:c, 'c'}\n"
    assert custom(text) == {"a": "c-b", "b": "c-b", "c": "c"}


def test_a_reference_through_a_variable_valued_mapping(
    custom: Callable[..., Mapping[str, Any]],
) -> None:
    text = (
        "custom:\n"
        "  tables: ${self:custom.all}\n"
        "  all: {orders: Orders}\n"
        "  t: ${self:custom.tables.orders}\n"
    )
    assert custom(text)["t"] == "Orders"


def test_cloudformation_placeholders_are_left_alone(
    custom: Callable[..., Mapping[str, Any]],
) -> None:
    text = """custom:
  bucket: b-${sls:stage}
  arn: !Sub "arn:${AWS::Partition}:s3:::${self:custom.bucket}/${Prefix}"
  plain: "${AWS::Region} and ${MyBucket.Arn}"
"""
    resolved = custom(text)
    assert resolved["arn"] == Intrinsic("Fn::Sub", ("arn:${AWS::Partition}:s3:::b-dev/${Prefix}",))
    assert resolved["plain"] == "${AWS::Region} and ${MyBucket.Arn}"


def test_variables_in_intrinsic_arguments_are_resolved(
    custom: Callable[..., Mapping[str, Any]],
) -> None:
    resolved = custom("custom:\n  j: !Join ['-', ['${sls:stage}', !Ref Topic]]\n")
    assert resolved["j"] == Intrinsic("Fn::Join", ("-", ("dev", Intrinsic("Ref", ("Topic",)))))


def test_the_process_environment_is_never_read(
    write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKYLET_TEST_SECRET", "from-os-environ")
    path = write("service: svc\ncustom:\n  s: ${env:SKYLET_TEST_SECRET}\n")
    with pytest.raises(ConfigError, match="environment variable SKYLET_TEST_SECRET is not set"):
        load_manifest(path)
    assert load_manifest(path, env={"SKYLET_TEST_SECRET": "given"}).custom["s"] == "given"


def test_a_long_cycle_is_reported_with_its_whole_path(write: Callable[..., Path]) -> None:
    text = (
        "service: svc\n"
        "custom:\n"
        "  a: ${self:custom.b}\n"
        "  b: x-${self:custom.c}\n"
        "  c: ${self:custom.a}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_manifest(write(text))
    assert str(caught.value) == (
        "serverless.yml:5: custom.c: variable cycle: custom.a → custom.b → custom.c → custom.a"
    )


def test_stage_that_refers_to_itself_is_a_cycle(write: Callable[..., Path]) -> None:
    with pytest.raises(ConfigError, match=r"variable cycle: provider.stage → provider.stage"):
        load_manifest(write("service: svc\nprovider:\n  stage: ${self:provider.stage}\n"))


def test_a_stage_cli_option_breaks_what_would_be_a_cycle(write: Callable[..., Path]) -> None:
    manifest = load_manifest(
        write("service: svc\nprovider:\n  stage: ${self:provider.stage}\n"), stage="x"
    )
    assert manifest.stage == "x"
