"""Layers against a real ``skylet up``: a directory layer and a zip layer declared in
serverless.yml, referenced as ``{Ref: XLambdaLayer}``, unpacked together read-only at /opt,
their Python packages importable from /opt/python, and a custom runtime's bootstrap reading
/opt too."""

from __future__ import annotations

import http.server
import json
import queue
import sys
import threading
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
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
  tools:
    path: tools
  hooks:
    path: hooks
functions:
  py:
    handler: handler.main
    layers:
      - {Ref: SharedLambdaLayer}
      - !Ref ZippedDashlibsLambdaLayer
  plain:
    handler: handler.main
  extended:
    runtime: provided.al2023
    handler: ric.handler
    layers:
      - {Ref: ToolsLambdaLayer}
  pyext:
    handler: ric.handler
    layers:
      - {Ref: ToolsLambdaLayer}
  pyfail:
    handler: pyfail.handler
    layers:
      - {Ref: ToolsLambdaLayer}
  pymissing:
    handler: pyfail.nothing
    layers:
      - {Ref: ToolsLambdaLayer}
  closing:
    runtime: provided.al2023
    handler: ric.handler
    environment: {HOOK_PORT: "{hook_port}"}
    layers:
      - {Ref: ToolsLambdaLayer}
      - {Ref: HooksLambdaLayer}
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


# An external extension: registers for INVOKE, notes each invocation's id in the instance's
# /tmp (which the function shares), and prints it.
EXTENSION = """\
import http.client, json, os, sys
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
def call(method, path, body=None, headers={}):
    conn.request(method, "/2020-01-01/extension/" + path, body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read(), answer.getheader("Lambda-Extension-Identifier")
refused = call("POST", "register", b"{}")[0]  # no name
status, body, ident = call("POST", "register", json.dumps({"events": ["INVOKE"]}),
                           {"Lambda-Extension-Name": "recorder"})
with open("/tmp/registered.json", "w") as f:
    json.dump({"status": status, "body": json.loads(body), "refused": refused}, f)
while True:
    status, event, _ = call("GET", "event/next", headers={"Lambda-Extension-Identifier": ident})
    event = json.loads(event)
    print("recorder saw", event["eventType"], event["requestId"], flush=True)
    with open("/tmp/seen.txt", "a") as f:
        f.write(event["requestId"] + "\\n")
"""
# An extension for the shutdown phase: tells the test's server what SHUTDOWN said.
NOTIFIER = """\
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
conn.request("POST", "/2020-01-01/extension/register", json.dumps({"events": ["SHUTDOWN"]}),
             {"Lambda-Extension-Name": "notifier"})
answer = conn.getresponse()
answer.read()
ident = answer.getheader("Lambda-Extension-Identifier")
while True:
    conn.request("GET", "/2020-01-01/extension/event/next",
                 headers={"Lambda-Extension-Identifier": ident})
    event = conn.getresponse().read()
    hook = http.client.HTTPConnection("127.0.0.1", int(os.environ["HOOK_PORT"]))
    hook.request("POST", "/shutdown", event)
    hook.getresponse().read()
"""
RIC_HANDLER = """\
import json, os
def handler(event, context):
    seen = open("/tmp/seen.txt").read().split() if os.path.exists("/tmp/seen.txt") else []
    return {"id": context.aws_request_id, "seen": seen,
            "registered": json.load(open("/tmp/registered.json"))}
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
    (root / "tools" / "extensions").mkdir(parents=True)
    recorder = root / "tools" / "extensions" / "recorder"
    recorder.write_text(f"#!{sys.executable}\n{EXTENSION}")
    recorder.chmod(0o755)
    # The function's bootstrap comes from the layer too, as /opt/bootstrap.
    bootstrap = root / "tools" / "bootstrap"
    bootstrap.write_text(f"#!/bin/sh\nexec {sys.executable} -m awslambdaric $_HANDLER\n")
    bootstrap.chmod(0o755)
    (root / "ric.py").write_text(RIC_HANDLER)
    (root / "pyfail.py").write_text(
        "def handler(event, context):\n    raise ValueError('no ' + context.function_name)\n"
    )
    (root / "hooks" / "extensions").mkdir(parents=True)
    notifier = root / "hooks" / "extensions" / "notifier"
    notifier.write_text(f"#!{sys.executable}\n{NOTIFIER}")
    notifier.chmod(0o755)
    hook = Hook()
    (root / "serverless.yml").write_text(MANIFEST.replace("{hook_port}", str(hook.port)))
    running = start_server(root, "--no-reload")
    running.hook = hook  # type: ignore[attr-defined]
    yield running
    stop_server(running)
    hook.close()


class Hook:
    """A loopback HTTP server that keeps the bodies POSTed to it."""

    def __init__(self) -> None:
        received: queue.Queue[bytes] = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.put(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def test_an_extension_registers_and_sees_every_invocation_before_the_next(
    server: Server,
) -> None:
    if "mount namespace" not in server.output().split("sandbox off")[0]:
        pytest.skip("no mount namespace here: layers are not shown at /opt")
    first = _invoke(server, "extended")
    assert first["registered"] == {
        "status": 200,
        "body": {
            "functionName": "layered-dev-extended",
            "functionVersion": "$LATEST",
            "handler": "ric.handler",
        },
        "refused": 403,
    }
    second = _invoke(server, "extended")
    # the next invocation waited for the extension to finish with the first
    assert first["id"] in second["seen"]
    # what it printed after the function answered is in the log of the invocation after
    logs = httpx.get(f"{server.url}/_skylet/functions/layered-dev-extended/logs").text
    assert f"recorder saw INVOKE {first['id']}" in logs, logs


def test_a_retired_instance_gives_its_extensions_the_shutdown_phase(server: Server) -> None:
    if "mount namespace" not in server.output().split("sandbox off")[0]:
        pytest.skip("no mount namespace here: layers are not shown at /opt")
    assert "registered" in _invoke(server, "closing")
    httpx.delete(f"{server.url}/_skylet/functions/layered-dev-closing/instances")
    event = json.loads(server.hook.received.get(timeout=5))  # type: ignore[attr-defined]
    assert event["eventType"] == "SHUTDOWN" and event["shutdownReason"] == "spindown"
    assert event["deadlineMs"] > 0


def test_a_python_function_with_extensions_runs_through_the_runtime_api(server: Server) -> None:
    if "mount namespace" not in server.output().split("sandbox off")[0]:
        pytest.skip("no mount namespace here: layers are not shown at /opt")
    first = _invoke(server, "pyext")
    assert first["registered"]["body"]["functionName"] == "layered-dev-pyext"
    second = _invoke(server, "pyext")
    assert first["id"] in second["seen"]


def test_a_python_function_with_extensions_reports_errors_as_lambda_does(server: Server) -> None:
    if "mount namespace" not in server.output().split("sandbox off")[0]:
        pytest.skip("no mount namespace here: layers are not shown at /opt")
    failed = _invoke(server, "pyfail")
    assert failed["errorType"] == "ValueError"
    assert failed["errorMessage"] == "no layered-dev-pyfail"
    assert failed["stackTrace"] and "pyfail.py" in failed["stackTrace"][0]
    missing = _invoke(server, "pymissing")
    assert missing["errorType"] == "Runtime.HandlerNotFound"
