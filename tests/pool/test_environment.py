"""The variables an instance starts with: Lambda's, and Cloud Run's for Cloud Functions style."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.pool.environment import lambda_environment

BASE = FunctionConfig(
    name="hello",
    handler="main.hello",
    code_dir=Path("/code/a"),
    environment={"MINE": "1", "AWS_REGION": "mars-1", "K_SERVICE": "spoofed"},
)


def env_of(fn: FunctionConfig) -> dict[str, str]:
    return lambda_environment(fn, RuntimeSettings(), log_stream="s", init_type="on-demand")


def test_lambda_style_gets_lambdas_variables_and_keeps_its_own_except_reserved_ones() -> None:
    env = env_of(BASE)
    assert env["MINE"] == "1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert env["_HANDLER"] == "main.hello"
    assert env["AWS_REGION"] == RuntimeSettings().region
    assert "FUNCTION_TARGET" not in env
    assert env["K_SERVICE"] == "spoofed"  # not reserved for a Lambda function


def test_cloud_functions_style_gets_cloud_runs_variables() -> None:
    http = env_of(replace(BASE, style="http"))
    assert http["K_SERVICE"] == http["K_CONFIGURATION"] == "hello"
    assert http["FUNCTION_TARGET"] == "hello"
    assert http["FUNCTION_SIGNATURE_TYPE"] == "http"
    revision = http["K_REVISION"]
    assert revision.startswith("hello-00001-")
    event = env_of(replace(BASE, style="cloudevent", code_dir=Path("/code/b")))
    assert event["FUNCTION_SIGNATURE_TYPE"] == "cloudevent"
    assert event["K_REVISION"] != revision  # new code, new revision
