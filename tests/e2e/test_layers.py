"""Layers against a real ``skylet up``: a directory layer and a zip layer declared in
serverless.yml, referenced as ``{Ref: XLambdaLayer}``, unpacked together read-only at /opt,
their Python packages importable from /opt/python, and a custom runtime's bootstrap reading
/opt too."""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Server, start_server, stop_server

pytestmark = pytest.mark.e2e
PYTHON = f"python{sys.version_info.major}.{sys.version_info.minor}"

MANIFEST = """\
service: layered
provider: {name: aws, runtime: python3.11}
layers:
  shared:
    path: layer-dir
  zipped-libs:
    path: libs.zip
functions:
  py:
    handler: handler.main
    layers:
      - {Ref: SharedLambdaLayer}
      - !Ref ZippedDashlibsLambdaLayer
  plain:
    handler: handler.main
"""
HANDLER = """\
import os

def main(event, context):
    try:
        import sharedlib, ziplib
        found = [sharedlib.WHERE, ziplib.WHERE]
    except ImportError as exc:
        found = str(exc)
    try:
        open("/opt/new", "w")
        writable = True
    except OSError as exc:
        writable = exc.strerror
    over = open("/opt/both.txt").read() if os.path.exists("/opt/both.txt") else None
    return {"found": found, "writable": writable, "over": over}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("layers") / "project"
    (root / "layer-dir" / "python").mkdir(parents=True)
    (root / "layer-dir" / "python" / "sharedlib.py").write_text("WHERE = __file__\n")
    (root / "layer-dir" / "both.txt").write_text("from the directory")
    with zipfile.ZipFile(root / "libs.zip", "w") as z:
        z.writestr(f"python/lib/{PYTHON}/site-packages/ziplib.py", "WHERE = __file__\n")
        z.writestr("both.txt", "from the zip")  # the later layer wins, as on Lambda
    (root / "handler.py").write_text(HANDLER)
    (root / "serverless.yml").write_text(MANIFEST)
    running = start_server(root, "--no-reload")
    yield running
    stop_server(running)


def _invoke(server: Server, name: str) -> Any:
    answer = server.lambda_client().invoke(FunctionName=name, Payload=b"{}")  # type: ignore[attr-defined]
    return json.loads(answer["Payload"].read())


def test_layers_are_unpacked_together_at_opt_and_on_the_python_path(server: Server) -> None:
    sandboxed = "mount namespace" in server.output().split("sandbox off")[0]
    body = _invoke(server, "py")
    if not sandboxed:
        pytest.skip("no mount namespace here: layers are not shown at /opt")
    assert body["found"] == [
        "/opt/python/sharedlib.py",
        f"/opt/python/lib/{PYTHON}/site-packages/ziplib.py",
    ]
    assert body["writable"] == "Read-only file system"
    assert body["over"] == "from the zip"


def test_a_function_without_layers_sees_none(server: Server) -> None:
    body = _invoke(server, "plain")
    assert isinstance(body["found"], str) and "sharedlib" in body["found"]
    assert body["over"] is None
