"""Custom runtimes against a real ``skylet up``: real clients of the Lambda Runtime API as
bootstraps (AWS's tutorial's shell script with curl, AWS's awslambdaric, a Go program on the
standard library, AWS's and skylet's Node.js clients), invoked with stock boto3."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import SKYLET, Server, free_port, start_server, stop_server

# The module's server builds a Go program and may install aws-lambda-ric from npm first.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

GO = shutil.which("go")
NODE = shutil.which("node")
CURL = shutil.which("curl")
NPM = shutil.which("npm")
#: Where AWS's Node.js runtime interface client is installed once, for every run.
NPM_CACHE = Path.home() / ".cache" / "skylet-tests" / "aws-lambda-ric"
NODE_RIC = NPM_CACHE / "node_modules" / "aws-lambda-ric"

# AWS's custom-runtime tutorial: a bash bootstrap driving the Runtime API with curl, plus the
# ways to fail that the tests need (exit, sleep past the timeout).
SHELL_BOOTSTRAP = """\
#!/bin/bash
set -euo pipefail
source $LAMBDA_TASK_ROOT/"$(echo $_HANDLER | cut -d. -f1).sh"
while true
do
  HEADERS="$(mktemp)"
  EVENT_DATA=$(curl -sS -LD "$HEADERS" "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next")
  REQUEST_ID=$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)
  case "$EVENT_DATA" in *'"exit"'*) exit 3;; *'"sleep"'*) sleep 5;; esac
  RESPONSE=$($(echo "$_HANDLER" | cut -d. -f2) "$EVENT_DATA")
  curl -sS "http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$REQUEST_ID/response" \\
    -d "$RESPONSE" > /dev/null
done
"""
SHELL_FUNCTION = """\
function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"
  echo $RESPONSE
}
"""
RIC_APP = """\
import time
def handler(event, context):
    print("hello from awslambdaric", context.aws_request_id)
    time.sleep(event.get("sleep_s", 0))
    if event.get("fail"):
        raise ValueError("asked to fail")
    if event.get("allocate_mb"):
        hog = bytearray(event["allocate_mb"] << 20)
        hog[::4096] = b"x" * len(hog[::4096])
    if "requestContext" in event:
        return {"statusCode": 201, "body": "routed " + event["path"]}
    return {"event": event, "fn": context.function_name,
            "left": context.get_remaining_time_in_millis() > 0}
"""
# A runtime that checks the API's answers to requests out of order, then serves normally.
PROBE = """\
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
def call(method, path, body=None, headers={}):
    conn.request(method, "/2018-06-01/runtime/" + path, body=body, headers=headers)
    answer = conn.getresponse()
    return answer.status, answer.read().decode(), dict(answer.getheaders())
seen = [call("POST", "invocation/x/response", b"{}")[:2]]
while True:
    status, event, headers = call("GET", "invocation/next")
    rid = headers["Lambda-Runtime-Aws-Request-Id"]
    seen.append(call("POST", "invocation/not-" + rid + "/response", b"{}")[:2])
    seen.append(call("POST", "init/error", b"{}")[:2])
    seen.append(call("GET", "nowhere")[:2])
    again = call("GET", "invocation/next")
    seen.append([again[0], again[2]["Lambda-Runtime-Aws-Request-Id"] == rid])
    names = sorted(k for k in headers if k.startswith("Lambda-Runtime-"))
    if json.loads(event).get("mode"):
        call("POST", f"invocation/{rid}/response", b"{}",
             {"Lambda-Runtime-Function-Response-Mode": json.loads(event)["mode"]})
        seen = []
        continue
    if json.loads(event).get("stream"):
        conn.request("POST", f"/2018-06-01/runtime/invocation/{rid}/response",
                     body=iter([b'{"streamed": ', b'"in chunks"}']), encode_chunked=True,
                     headers={"Lambda-Runtime-Function-Response-Mode": "streaming"})
        conn.getresponse().read()
        seen = []
        continue
    if json.loads(event).get("error"):
        seen.append(call("POST", f"invocation/{rid}/error", b"not json",
                         {"Lambda-Runtime-Function-Error-Type": "Handled"})[:2])
    else:
        body = json.dumps({"seen": seen, "headers": names, "arn": headers[
            "Lambda-Runtime-Invoked-Function-Arn"], "event": json.loads(event)})
        seen.append(call("POST", f"invocation/{rid}/response", body)[:2])
    seen.append(call("POST", f"invocation/{rid}/response", b"{}")[:2])
    seen = []
"""
INIT_ERROR = """\
import http.client, json, os
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
conn = http.client.HTTPConnection(host, int(port))
error = {"errorMessage": "no config", "errorType": "Runtime.ConfigMissing", "stackTrace": []}
conn.request("POST", "/2018-06-01/runtime/init/error", body=json.dumps(error),
             headers={"Lambda-Runtime-Function-Error-Type": "Runtime.ConfigMissing"})
conn.getresponse().read()
raise SystemExit(1)
"""
GO_PROGRAM = """\
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
)

func main() {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/"
	for {
		next, err := http.Get(api + "next")
		if err != nil {
			os.Exit(2)
		}
		payload, _ := io.ReadAll(next.Body)
		next.Body.Close()
		id := next.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var event map[string]any
		json.Unmarshal(payload, &event)
		os.Stdout.WriteString("go got " + id + "\\n")
		out, _ := json.Marshal(map[string]any{"go": true, "event": event,
			"deadline": next.Header.Get("Lambda-Runtime-Deadline-Ms") != ""})
		answer, err := http.Post(api+id+"/response", "application/json", bytes.NewReader(out))
		if err == nil {
			io.Copy(io.Discard, answer.Body)
			answer.Body.Close()
		}
	}
}
"""
NODE_APP = """\
export const handler = async (event, context) => {
  console.log("hello from node", context.awsRequestId);
  if (event.fail) throw new TypeError("asked to fail");
  return { event, fn: context.functionName, left: context.getRemainingTimeInMillis() > 0 };
};
"""

NODE_CALLBACK_APP = """\
// CommonJS, callback style
exports.run = function (event, context, callback) {
  setTimeout(() => callback(null, { cjs: true, id: context.awsRequestId.length }), 5);
};
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(0o755)


def _python_bootstrap(directory: Path, script: str) -> None:
    (directory / "runtime.py").write_text(script)
    _executable(directory / "bootstrap", f"#!/bin/sh\nexec {sys.executable} runtime.py\n")


def _project(base: Path) -> Path:
    root = base / "project"
    functions = {
        "shell": ("provided.al2023", "function.handler", 1),
        "ric": ("provided.al2", "app.handler", 3),
        "probe": ("provided", "probe.handler", 3),
        "initfail": ("provided.al2023", "x.handler", 3),
        "missing": ("provided.al2023", "x.handler", 3),
        "node": ("nodejs20.x", "index.handler", 3),
        "gofn": ("go1.x", "hello", 3),
        "noderic": ("nodejs22.x", "index.handler", 3),
        "nodecjs": ("nodejs22.x", "lib/app.run", 3),
    }
    manifest = ["service: customs", "functions:"]
    for name, (runtime, handler, timeout) in functions.items():
        (root / name).mkdir(parents=True)
        manifest += [
            f"  {name}:",
            f"    runtime: {runtime}",
            f"    handler: {handler}",
            f"    code: {name}",
            f"    timeout_s: {timeout}",
        ]
    manifest += [
        "  reserved:",
        "    runtime: provided.al2",
        "    handler: app.handler",
        "    code: ric",
        "    reserved_concurrency: 1",
        "  routed:",
        "    runtime: provided.al2",
        "    handler: app.handler",
        "    code: ric",
        "    events: [{http: {path: /routed, method: get}}]",
    ]
    (root / "skylet.yaml").write_text("\n".join(manifest) + "\n")
    _executable(root / "shell" / "bootstrap", SHELL_BOOTSTRAP)
    (root / "shell" / "function.sh").write_text(SHELL_FUNCTION)
    (root / "ric" / "app.py").write_text(RIC_APP)
    _executable(
        root / "ric" / "bootstrap", f"#!/bin/sh\nexec {sys.executable} -m awslambdaric $_HANDLER\n"
    )
    _python_bootstrap(root / "probe", PROBE)
    _python_bootstrap(root / "initfail", INIT_ERROR)
    (root / "node" / "index.mjs").write_text(NODE_APP)
    (root / "noderic" / "index.mjs").write_text(NODE_APP)
    (root / "nodecjs" / "lib").mkdir()
    (root / "nodecjs" / "lib" / "app.js").write_text(NODE_CALLBACK_APP)
    if _aws_node_ric() is None:
        shutil.copytree(NODE_RIC, root / "noderic" / "node_modules" / "aws-lambda-ric")
    if GO is not None:
        (root / "gosrc").mkdir()
        (root / "gosrc" / "main.go").write_text(GO_PROGRAM)
        subprocess.run(
            [GO, "build", "-o", str(root / "gofn" / "hello"), "main.go"],
            cwd=root / "gosrc",
            check=True,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(base),
                "GOCACHE": str(base / "gocache"),
                "GOPATH": str(base / "gopath"),
                "GO111MODULE": "off",
                "CGO_ENABLED": "0",
            },
            timeout=300,
        )
    return root


def _aws_node_ric() -> str | None:
    """Why AWS's Node.js client cannot be had here, or None once it is installed."""
    if NODE is None or NPM is None:
        return "Node.js and npm are not installed"
    if not (NODE_RIC / "bin" / "index.mjs").is_file():
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [
                NPM,
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(NPM_CACHE),
                "aws-lambda-ric",
            ],
            capture_output=True,
            timeout=400,
            check=False,
        )
        if done.returncode != 0:
            return f"npm install aws-lambda-ric failed: {done.stderr.decode()[-500:]}"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(_project(tmp_path_factory.mktemp("customs")), "--no-reload")
    yield running
    stop_server(running)


def _invoke(server: Server, name: str, event: Any) -> tuple[dict[str, Any], Any, str]:
    answer = server.lambda_client().invoke(  # type: ignore[attr-defined]
        FunctionName=name, Payload=json.dumps(event), LogType="Tail"
    )
    payload = answer["Payload"].read()
    try:
        body = json.loads(payload)
    except ValueError:
        body = payload.decode()
    return answer, body, base64.b64decode(answer["LogResult"]).decode()


@pytest.mark.skipif(CURL is None, reason="the tutorial's bootstrap needs curl")
def test_the_tutorials_shell_bootstrap_answers_and_logs(server: Server) -> None:
    answer, body, log = _invoke(server, "shell", {"n": 1})
    assert answer["StatusCode"] == 200 and "FunctionError" not in answer
    assert body == """Echoing request: '{"n": 1}'"""
    assert '{"n": 1}' in log  # the bootstrap's stderr is the invocation's log
    assert "START RequestId:" in log and "REPORT RequestId:" in log
    warm = _invoke(server, "shell", {"n": 2})
    assert warm[1] == """Echoing request: '{"n": 2}'""" and "Init Duration" not in warm[2]


@pytest.mark.skipif(CURL is None, reason="the tutorial's bootstrap needs curl")
def test_a_bootstrap_that_exits_is_a_runtime_exit_error_and_the_next_runs_again(
    server: Server,
) -> None:
    answer, body, _ = _invoke(server, "shell", {"exit": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in body["errorMessage"]
    assert _invoke(server, "shell", {"n": 3})[1] == """Echoing request: '{"n": 3}'"""


@pytest.mark.skipif(CURL is None, reason="the tutorial's bootstrap needs curl")
def test_a_bootstrap_past_its_timeout_is_sandbox_timedout(server: Server) -> None:
    answer, body, _ = _invoke(server, "shell", {"sleep": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]


def test_awslambdaric_runs_a_python_handler_as_a_bootstrap(server: Server) -> None:
    answer, body, log = _invoke(server, "ric", {"k": "v"})
    assert "FunctionError" not in answer
    assert body == {"event": {"k": "v"}, "fn": "ric", "left": True}
    assert "hello from awslambdaric" in log and "Init Duration" in log


def test_awslambdaric_reports_the_handlers_exception(server: Server) -> None:
    answer, body, _ = _invoke(server, "ric", {"fail": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError" and body["errorMessage"] == "asked to fail"


def test_a_bootstrap_over_its_memory_is_out_of_memory(server: Server) -> None:
    answer, body, _ = _invoke(server, "ric", {"allocate_mb": 400})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"


def test_an_http_route_reaches_a_custom_runtime_with_api_gateways_event(server: Server) -> None:
    response = httpx.get(f"{server.url}/routed", timeout=30)
    assert response.status_code == 201 and response.text == "routed /routed"


def test_the_runtime_api_answers_as_the_emulator_does(server: Server) -> None:
    answer, body, _ = _invoke(server, "probe", {"probe": 1})
    assert "FunctionError" not in answer
    state = (
        "State transition from {} to {} failed for runtime. Error: State transition is not allowed"
    )
    assert body["seen"] == [
        [
            403,
            json.dumps(
                {
                    "errorMessage": state.format("Started", "InvocationResponse"),
                    "errorType": "InvalidStateTransition",
                }
            ),
        ],
        [400, '{"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}'],
        [
            403,
            json.dumps(
                {
                    "errorMessage": state.format("Running", "InitError"),
                    "errorType": "InvalidStateTransition",
                }
            ),
        ],
        [404, "404 page not found\n"],
        [200, True],  # next while running hands the same invocation out again
    ]
    assert body["headers"] == [
        "Lambda-Runtime-Aws-Request-Id",
        "Lambda-Runtime-Deadline-Ms",
        "Lambda-Runtime-Invoked-Function-Arn",
        "Lambda-Runtime-Trace-Id",
    ]
    assert body["arn"].endswith(":function:probe") and body["event"] == {"probe": 1}
    # the error endpoint, with a body that is not JSON and a header that is not an error type
    answer, body, _ = _invoke(server, "probe", {"error": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body == {"errorMessage": "not json", "errorType": "Runtime.Unknown"}


def test_a_streamed_response_arrives_whole(server: Server) -> None:
    answer, body, _ = _invoke(server, "probe", {"stream": True})
    assert "FunctionError" not in answer and body == {"streamed": "in chunks"}


def test_an_unknown_response_mode_fails_the_invocation(server: Server) -> None:
    answer, body, _ = _invoke(server, "probe", {"mode": "sideways"})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidResponseModeHeader"


def test_client_context_reaches_the_runtime_as_its_header(server: Server) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    answer = server.lambda_client().invoke(  # type: ignore[attr-defined]
        FunctionName="probe", Payload=b"{}", ClientContext=context
    )
    body = json.loads(answer["Payload"].read())
    assert "Lambda-Runtime-Client-Context" in body["headers"]


def test_init_error_fails_the_invocation_with_the_runtimes_error(server: Server) -> None:
    answer, body, _ = _invoke(server, "initfail", {})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ConfigMissing" and body["errorMessage"] == "no config"


def test_a_missing_bootstrap_is_an_invalid_entrypoint(server: Server) -> None:
    answer, body, _ = _invoke(server, "missing", {})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s)" in body["errorMessage"]


@pytest.mark.skipif(GO is None, reason="no Go toolchain (Debian: apt-get install golang-go)")
def test_a_go_program_on_the_standard_library_runs_as_go1x(server: Server) -> None:
    answer, body, log = _invoke(server, "gofn", {"x": 1})
    assert "FunctionError" not in answer
    assert body == {"go": True, "event": {"x": 1}, "deadline": True}
    assert "go got " in log


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_a_nodejs_handler_runs_and_its_errors_are_reported(server: Server) -> None:
    answer, body, log = _invoke(server, "node", {"a": 1})
    assert "FunctionError" not in answer
    assert body == {"event": {"a": 1}, "fn": "node", "left": True}
    assert "\tINFO\thello from node" in log
    answer, body, _ = _invoke(server, "node", {"fail": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "asked to fail"


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_a_commonjs_callback_handler_in_a_subdirectory_runs(server: Server) -> None:
    answer, body, _ = _invoke(server, "nodecjs", {})
    assert "FunctionError" not in answer
    assert body == {"cjs": True, "id": 36}


def test_awss_nodejs_runtime_interface_client_runs_an_index_handler(server: Server) -> None:
    why = _aws_node_ric()
    if why is not None:
        pytest.skip(why)
    answer, body, log = _invoke(server, "noderic", {"b": 2})
    assert "FunctionError" not in answer
    assert body == {"event": {"b": 2}, "fn": "noderic", "left": True}
    assert "Executing 'index.handler'" in log  # AWS's client, not skylet's
    answer, body, _ = _invoke(server, "noderic", {"fail": True})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "asked to fail"


def test_concurrent_invocations_each_get_an_instance(server: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda i: _invoke(server, "ric", {"i": i})[1], range(12)))
    assert sorted(b["event"]["i"] for b in bodies) == list(range(12))


def test_reserved_concurrency_throttles_a_custom_runtime(server: Server) -> None:
    from concurrent.futures import ThreadPoolExecutor

    import botocore.exceptions

    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(_invoke, server, "reserved", {"sleep_s": 2})
        time.sleep(0.8)
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            _invoke(server, "reserved", {})
        assert slow.result()[1]["event"] == {"sleep_s": 2}
    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"


@pytest.mark.skipif(CURL is None, reason="the tutorial's bootstrap needs curl")
def test_a_changed_bootstrap_is_reloaded(tmp_path: Path, serve: Any) -> None:
    root = tmp_path / "project"
    (root / "shell").mkdir(parents=True)
    _executable(root / "shell" / "bootstrap", SHELL_BOOTSTRAP)
    (root / "shell" / "function.sh").write_text(SHELL_FUNCTION)
    (root / "skylet.yaml").write_text(
        "service: reloading\nfunctions:\n  shell:\n    runtime: provided\n"
        "    handler: function.handler\n    code: shell\n"
    )
    running = serve(root)
    assert _invoke(running, "shell", {"v": 1})[1] == """Echoing request: '{"v": 1}'"""
    (root / "shell" / "function.sh").write_text(SHELL_FUNCTION.replace("Echoing", "Changed"))
    deadline = time.monotonic() + 20
    while (body := _invoke(running, "shell", {"v": 2})[1]) != """Changed request: '{"v": 2}'""":
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_without_node_a_nodejs_function_says_what_to_install(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "index.mjs").write_text(NODE_APP)
    (root / "skylet.yaml").write_text(
        "service: nonode\nfunctions:\n  fn:\n    runtime: nodejs20.x\n    handler: index.handler\n"
    )
    port = free_port()
    log = root / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [SKYLET, "up", str(root), "--port", str(port), "--no-reload"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={"PATH": str(tmp_path / "nothing-here"), "HOME": str(tmp_path)},
        )
    running = Server(port, proc, root, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{running.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, running.output()
            time.sleep(0.05)
        answer, body, _ = _invoke(running, "fn", {})
        assert answer["FunctionError"] == "Unhandled"
        assert body["errorType"] == "Runtime.InvalidEntrypoint"
        assert "apt-get install nodejs" in body["errorMessage"]
        assert "functions.fn: the runtime nodejs20.x needs Node.js" in running.output()
    finally:
        stop_server(running)


@pytest.mark.skipif(CURL is None, reason="the tutorial's bootstrap needs curl")
def test_a_package_artifact_zip_is_the_functions_code(tmp_path: Path, serve: Any) -> None:
    import zipfile

    root = tmp_path / "project"
    (root / "bin").mkdir(parents=True)
    with zipfile.ZipFile(root / "bin" / "shell.zip", "w") as z:
        bootstrap = zipfile.ZipInfo("bootstrap")
        bootstrap.external_attr = 0o755 << 16  # as `zip` keeps an executable's mode
        z.writestr(bootstrap, SHELL_BOOTSTRAP)
        z.writestr("function.sh", SHELL_FUNCTION.replace("Echoing", "Zipped"))
    (root / "serverless.yml").write_text(
        "service: zipped\nprovider: {name: aws, runtime: provided.al2}\n"
        "functions:\n  shell:\n    handler: function.handler\n"
        "    package: {artifact: bin/shell.zip}\n"
    )
    running = serve(root)
    assert _invoke(running, "shell", {"z": 1})[1] == """Zipped request: '{"z": 1}'"""
