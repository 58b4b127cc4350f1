"""Serving the seed's serverless.yml and a function with its own requirements.txt."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skylet.config import HOST_RUNTIME
from tests.e2e.conftest import FUNCTIONS, Server

pytestmark = pytest.mark.e2e

SEED = Path(__file__).parents[1] / "fixtures" / "manifests"


def test_the_seeds_serverless_yml_serves_under_key_and_deployed_name(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    directory = tmp_path / "svc"
    directory.mkdir()
    # The seed's functions are Go (go1.x, which skylet refuses); these are Python stand-ins.
    seed = (SEED / "go_lambda_service" / "serverless.yml").read_text()
    (directory / "serverless.yml").write_text(seed.replace("go1.x", HOST_RUNTIME))
    handlers = directory / "handlers"
    handlers.mkdir()
    (handlers / "__init__.py").write_text("")
    for name in ("api", "s3processor", "dbstream", "cleanup"):
        (handlers / f"{name}.py").write_text(
            "import os\n\ndef handler(event, context):\n"
            "    return {'fn': context.function_name, 'table': os.environ['TABLE_NAME']}\n"
        )
    server = serve(directory, "--stage", "prod")
    client: Any = server.lambda_client()
    try:
        by_key = json.loads(client.invoke(FunctionName="api", Payload=b"{}")["Payload"].read())
        by_name = client.invoke(FunctionName="go-lambda-service-prod-api", Payload=b"{}")
        assert json.loads(by_name["Payload"].read()) == by_key
    finally:
        client.close()
    assert by_key == {"fn": "go-lambda-service-prod-api", "table": "MyTable-prod"}


def test_requirements_txt_is_installed_once_and_put_on_the_path(
    tmp_path: Path, serve: Callable[..., Server]
) -> None:
    directory = tmp_path / "deps"
    shutil.copytree(FUNCTIONS / "withdeps", directory)
    (directory / "skylet.yaml").write_text(
        "service: deps\nfunctions:\n  app:\n    handler: app.handler\n"
    )
    server = serve(directory)
    client: Any = server.lambda_client()
    try:
        body = json.loads(client.invoke(FunctionName="app", Payload=b"{}")["Payload"].read())
    finally:
        client.close()
    assert body["six"] == "1.16.0"
    assert "/.skylet/deps/" in body["file"]
