"""Snapshots on a real ``skylet up`` with reload: a function with ``snapStart: true`` restores
from its template, REPORT says so, and a change of its code makes a new template."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: snapped
provider: {name: aws, runtime: python3.11}
functions:
  hello:
    handler: snapped.handler
    snapStart: true
"""
CODE = """
import uuid
from snapshot_restore_py import register_after_restore

INIT = uuid.uuid4().hex
RESTORED = []
register_after_restore(RESTORED.append, True)


def handler(event, context):
    return {{"version": "{version}", "init": INIT, "restored": RESTORED}}
"""


def _invoke(server: Server) -> tuple[dict[str, Any], str]:
    client: Any = server.lambda_client()
    response = client.invoke(FunctionName="snapped-dev-hello", LogType="Tail", Payload=b"{}")
    return json.loads(response["Payload"].read()), base64.b64decode(response["LogResult"]).decode()


def test_a_snapshot_is_taken_again_when_the_code_changes(
    project: Callable[..., Path], serve: Callable[..., Server]
) -> None:
    directory = project(MANIFEST, "serverless.yml")
    (directory / "snapped.py").write_text(CODE.format(version="v1"))
    server = serve(directory)
    first, log = _invoke(server)
    assert first["version"] == "v1" and first["restored"] == [True]
    assert "Restore Duration: " in log and "Init Duration" not in log
    (directory / "snapped.py").write_text(CODE.format(version="v2"))
    deadline = time.monotonic() + 20
    while (answer := _invoke(server)[0])["version"] != "v2":
        assert time.monotonic() < deadline, answer
        time.sleep(0.05)
    assert answer["init"] != first["init"] and answer["restored"] == [True]
