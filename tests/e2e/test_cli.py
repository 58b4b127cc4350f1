"""The ``skylet`` command line against real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import (
    SKYLET,
    Server,
    cli,
    module_server,
    project_dir,
    start_server,
    stop_server,
)
from tests.runtime_fixtures import alive, descendants, describe

pytestmark = pytest.mark.e2e

MANIFEST = """
service: cli
functions:
  echo:
    handler: handlers.echo
  fail:
    handler: handlers.fail
  sleep:
    handler: handlers.sleep
  spawn:
    handler: handlers.spawn_child
  work:
    handler: handlers.work
"""

server = module_server("cli", MANIFEST)


def test_invoke_through_a_running_server_prints_the_response_and_the_tail(
    server: Server,
) -> None:
    env = {"SKYLET_ENDPOINT": server.url}
    done = cli("invoke", "echo", "-d", '{"name": "cli"}', "--tail", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"name": "cli"}
    assert "START RequestId: " in done.stderr and "REPORT RequestId: " in done.stderr
    failed = cli("invoke", "fail", env=env)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"


def test_invoke_of_an_unknown_function_says_so_with_status_4(server: Server) -> None:
    done = cli("invoke", "nope", env={"SKYLET_ENDPOINT": server.url})
    assert done.returncode == 4
    assert "ResourceNotFoundException" in done.stderr


def test_invoke_local_runs_once_without_a_server(project: Callable[[str], Path]) -> None:
    directory = project(MANIFEST)
    payload = directory / "event.json"
    payload.write_text('{"from": "file"}')
    done = cli("invoke", "echo", "--local", "--dir", str(directory), "-p", str(payload))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"from": "file"}
    assert "Init Duration" in done.stderr


def test_logs_prints_a_functions_recent_invocations(server: Server) -> None:
    env = {"SKYLET_ENDPOINT": server.url}
    cli("invoke", "echo", env=env)
    done = cli("logs", "echo", env=env)
    assert done.returncode == 0
    assert "echo call " in done.stdout and "REPORT RequestId" in done.stdout


def test_logs_follow_streams_new_entries(server: Server) -> None:
    invoke_url = f"{server.url}/2015-03-31/functions/work/invocations"
    httpx.post(invoke_url, json={"n": 101})
    env = {**os.environ, "SKYLET_ENDPOINT": server.url}
    follower = subprocess.Popen(
        [SKYLET, "logs", "work", "-f"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert follower.stdout is not None
        # The backlog first: once its entry is printed, the follower is connected.
        while "work 101" not in (line := follower.stdout.readline()):
            assert line, "the follower ended"
        httpx.post(invoke_url, json={"n": 102})
        while "work 102" not in (line := follower.stdout.readline()):
            assert line, "the follower ended"
    finally:
        follower.terminate()
        follower.wait(10)
        if follower.stdout is not None:
            follower.stdout.close()


def test_up_prints_its_functions_and_stops_cleanly_on_sigterm(
    project: Callable[[str], Path],
) -> None:
    server = start_server(project(MANIFEST))
    httpx.post(f"{server.url}/2015-03-31/functions/spawn/invocations", content=b"{}")
    slow = subprocess.Popen(
        [
            "curl",
            "-s",
            "-X",
            "POST",
            "-d",
            '{"seconds": 1}',
            f"{server.url}/2015-03-31/functions/sleep/invocations",
        ],
        stdout=subprocess.PIPE,
    )
    time.sleep(0.3)
    tree = descendants(server.proc.pid)
    assert len(tree) >= 4
    assert stop_server(server) == 0
    out, _ = slow.communicate(10)
    assert out == b'"woke"'
    for _ in range(100):
        if not any(alive(pid) for pid in tree):
            break
        time.sleep(0.02)
    assert [pid for pid in tree if alive(pid)] == []
    output = server.output()
    for name in ("echo", "fail", "sleep", "spawn", "work"):
        assert name in output
    assert "/2015-03-31/functions/<function>/invocations" in output


def test_up_with_a_bad_manifest_names_the_file_line_and_key(
    project: Callable[[str], Path],
) -> None:
    directory = project(
        "service: x\nfunctions:\n  f:\n    handler: handlers.echo\n    memory_size: big\n"
    )
    done = cli("up", str(directory), "--port", "1")
    assert done.returncode == 3
    assert "skylet.yaml:5" in done.stderr
    assert "functions.f.memory_size" in done.stderr


def test_kill_9_of_up_leaves_no_instance_behind(project: Callable[[str], Path]) -> None:
    server = start_server(project(MANIFEST))
    httpx.post(f"{server.url}/2015-03-31/functions/spawn/invocations", content=b"{}")
    tree = descendants(server.proc.pid)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait()
    for _ in range(200):
        if not any(alive(pid) for pid in tree):
            break
        time.sleep(0.02)
    survivors = [pid for pid in tree if alive(pid)]
    assert survivors == [], [describe(pid) for pid in survivors]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["up"], id="skylet up"),
        pytest.param(["serve-function", "--port", "1"], id="serve-function on its default host"),
    ],
)
def test_a_public_address_without_credentials_is_refused_for_every_api(
    project: Callable[[str], Path], command: list[str]
) -> None:
    directory = project(MANIFEST)
    args = [*command, str(directory)]
    if command == ["up"]:
        args += ["--host", "0.0.0.0", "--port", "1"]
    else:
        args.append("echo")  # serve-function listens on 0.0.0.0 unless told otherwise
    done = cli(*args, env={"SKYLET_CREDENTIALS": ""})
    assert done.returncode == 2, done.stderr
    assert "needs credentials" in done.stderr
    assert "Lambda, S3, admin and service APIs" in done.stderr


def _output_until(server: Server, *texts: str) -> str:
    """The server's output once it holds every one of ``texts`` (lines are written in batches)."""
    for _ in range(500):
        output = server.output()
        if all(text in output for text in texts):
            return output
        time.sleep(0.02)
    raise AssertionError(f"{texts} not in the output:\n{server.output()}")


def test_up_prints_each_invocations_output_and_error_prefixed_by_the_function(
    server: Server,
) -> None:
    httpx.post(f"{server.url}/2015-03-31/functions/work/invocations", json={"n": 7301})
    httpx.post(f"{server.url}/2015-03-31/functions/fail/invocations", content=b"{}")
    output = _output_until(server, "work | work 7301", "fail | ERROR ValueError: something broke")
    assert "Traceback" in output  # the function's own [ERROR] lines, as its log has them


def test_up_logs_a_request_no_route_takes(server: Server) -> None:
    assert httpx.get(f"{server.url}/no/such/route").status_code == 404
    _output_until(server, "/no/such/route 404 ")


def test_ctrl_c_stops_quietly_with_status_130(project: Callable[[str], Path]) -> None:
    running = start_server(project(MANIFEST), "--no-reload", "--no-function-logs", new_session=True)
    try:
        httpx.post(f"{running.url}/2015-03-31/functions/work/invocations", json={"n": 8})
        tree = descendants(running.proc.pid)
        assert len(tree) >= 2  # the zygote and an instance at least
        os.killpg(running.proc.pid, signal.SIGINT)  # what a terminal's Ctrl+C does
        assert running.proc.wait(30) == 130
    finally:
        stop_server(running)
    output = running.output()
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert "work | " not in output  # --no-function-logs
    for _ in range(200):
        if not any(alive(pid) for pid in tree):
            break
        time.sleep(0.02)
    assert [describe(pid) for pid in tree if alive(pid)] == []


def test_a_port_in_use_says_so_with_status_6(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, MANIFEST)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = cli("up", str(directory), "--port", port, "--no-reload")
    assert done.returncode == 6, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "in use" in done.stderr
    assert "--port" in done.stderr and "Traceback" not in done.stderr
