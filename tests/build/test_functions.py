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
