"""From a manifest to function configs: the async settings of serverless.yml reach the runtime."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.build.functions import build_functions
from skylet.manifest import load_manifest

pytestmark = pytest.mark.anyio

MANIFEST = """
service: svc
provider:
  name: aws
  runtime: python3.11
functions:
  work:
    handler: app.work
    maximumRetryAttempts: 1
    maximumEventAge: 120
    destinations:
      onSuccess: audit
      onFailure: !GetAtt Failures.Arn
  audit:
    handler: app.audit
resources:
  Resources:
    Failures:
      Type: AWS::SQS::Queue
      Properties:
        QueueName: work-failures
"""


async def test_retries_age_and_destinations_reach_the_function_config(tmp_path: Path) -> None:
    (tmp_path / "serverless.yml").write_text(MANIFEST)
    manifest = load_manifest(tmp_path / "serverless.yml")
    functions = {f.name: f for f in await build_functions(manifest, deps_root=tmp_path / "d")}
    config = functions["svc-dev-work"].async_config
    assert config.maximum_retry_attempts == 1
    assert config.maximum_event_age_s == 120
    assert config.on_success is not None and config.on_failure is not None
    assert (config.on_success.kind, config.on_success.name) == ("function", "svc-dev-audit")
    assert (config.on_failure.kind, config.on_failure.name) == ("queue", "work-failures")


@pytest.mark.parametrize(
    ("region_line", "options", "region"),
    [
        ("", {}, "us-east-1"),
        ("  region: eu-central-1\n", {}, "eu-central-1"),
        ("  region: eu-central-1\n", {"region": "sa-east-1"}, "sa-east-1"),
    ],
    ids=[
        "without a region, the framework's default",
        "provider.region",
        "the region option over provider.region",
    ],
)
async def test_the_region_reaches_every_function_config(
    tmp_path: Path, region_line: str, options: dict[str, str], region: str
) -> None:
    manifest = "service: svc\nprovider:\n  name: aws\n" + region_line
    manifest += "functions:\n  a: {handler: app.a}\n  b: {handler: app.b}\n"
    (tmp_path / "serverless.yml").write_text(manifest)
    loaded = load_manifest(tmp_path / "serverless.yml", options=options)
    functions = await build_functions(loaded, deps_root=tmp_path / "d")
    assert [f.region for f in functions] == [region, region]
