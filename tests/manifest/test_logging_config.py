"""Lambda's logging configuration in both manifests: serverless.yml's ``logs`` (on a function,
``provider.logs.lambda`` for all, ``logRetentionInDays``) and skylet.yaml's ``logging`` with
CloudFormation's LoggingConfig keys."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest

SERVERLESS = """
service: shop
provider:
  name: aws
  logRetentionInDays: 14
  logs:
    lambda:
      logFormat: JSON
      applicationLogLevel: WARN
functions:
  api:
    handler: app.handler
    logs:
      applicationLogLevel: DEBUG
      systemLogLevel: WARN
      logGroup: /custom/api
  worker:
    handler: app.work
    logRetentionInDays: 3
"""


def test_serverless_logs_merge_the_providers_with_the_functions(
    write: Callable[..., Path],
) -> None:
    manifest = load_manifest(write(SERVERLESS))
    api, worker = manifest.functions["api"], manifest.functions["worker"]
    assert (api.log_format, api.application_log_level, api.system_log_level) == (
        "JSON",
        "DEBUG",
        "WARN",
    )
    assert api.log_group == "/custom/api"
    assert api.log_retention_days == 14
    assert (worker.log_format, worker.application_log_level, worker.log_group) == (
        "JSON",
        "WARN",
        None,
    )
    assert worker.log_retention_days == 3


def test_text_stays_the_default(write: Callable[..., Path]) -> None:
    manifest = load_manifest(write("service: s\nfunctions:\n  f:\n    handler: app.handler\n"))
    spec = manifest.functions["f"]
    assert (spec.log_format, spec.application_log_level, spec.log_retention_days) == (
        "Text",
        None,
        None,
    )


def test_skylet_yaml_takes_cloudformations_logging_config(write: Callable[..., Path]) -> None:
    text = """
    service: s
    defaults:
      logging: {LogFormat: JSON}
    functions:
      f:
        handler: app.handler
        logging: {ApplicationLogLevel: ERROR, SystemLogLevel: DEBUG, LogGroup: /x/f}
        log_retention_days: 30
    """
    spec = load_manifest(write(text, "skylet.yaml")).functions["f"]
    assert (spec.log_format, spec.application_log_level, spec.system_log_level) == (
        "JSON",
        "ERROR",
        "DEBUG",
    )
    assert (spec.log_group, spec.log_retention_days) == ("/x/f", 30)


@pytest.mark.parametrize(
    ("logs", "message"),
    [
        pytest.param(
            "{applicationLogLevel: INFO}", "needs the JSON log format", id="level in text"
        ),
        pytest.param("{logFormat: XML}", r"logs.logFormat.*allowed: Text, JSON", id="bad format"),
        pytest.param("{logFormat: JSON, systemLogLevel: ERROR}", "DEBUG", id="system ERROR"),
        pytest.param("{logFormat: JSON, logGroup: 'a b'}", "not a log group name", id="bad group"),
    ],
)
def test_bad_logging_configuration_is_an_error_naming_the_key(
    write: Callable[..., Path], logs: str, message: str
) -> None:
    head = "service: s\nconfigValidationMode: error\n"
    text = f"{head}functions:\n  f:\n    handler: a.b\n    logs: {logs}\n"
    with pytest.raises(ConfigError, match=message):
        load_manifest(write(text))


def test_a_retention_cloudwatch_does_not_offer_is_an_error(write: Callable[..., Path]) -> None:
    text = "service: s\nprovider: {logRetentionInDays: 10}\nfunctions:\n  f: {handler: a.b}\n"
    with pytest.raises(ConfigError, match="10 is not a retention period"):
        load_manifest(write(text))
