"""The ``skylet`` command line against real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import SKYLET, Server, cli, start_server, stop_server
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
"""


def test_invoke_through_a_running_server_prints_the_response_and_the_tail(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
    env = {"SKYLET_ENDPOINT": server.url}
    done = cli("invoke", "echo", "-d", '{"name": "cli"}', "--tail", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == {"name": "cli"}
    assert "START RequestId: " in done.stderr and "REPORT RequestId: " in done.stderr
    failed = cli("invoke", "fail", env=env)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "ValueError"


def test_invoke_of_an_unknown_function_says_so(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
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


def test_logs_prints_a_functions_recent_invocations(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
    env = {"SKYLET_ENDPOINT": server.url}
    cli("invoke", "echo", env=env)
    done = cli("logs", "echo", env=env)
    assert done.returncode == 0
    assert "echo call 1" in done.stdout and "REPORT RequestId" in done.stdout


def test_logs_follow_streams_new_entries(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
    env = {**os.environ, "SKYLET_ENDPOINT": server.url}
    follower = subprocess.Popen(
        [SKYLET, "logs", "echo", "-f"], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        time.sleep(0.5)
        httpx.post(f"{server.url}/2015-03-31/functions/echo/invocations", content=b"{}")
        assert follower.stdout is not None
        line = follower.stdout.readline()
        assert line.startswith("START RequestId: ")
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
    for name in ("echo", "fail", "sleep", "spawn"):
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


def test_up_refuses_a_public_address_without_s3_credentials(
    project: Callable[[str], Path],
) -> None:
    directory = project(MANIFEST)
    done = cli(
        "up", str(directory), "--host", "0.0.0.0", "--port", "1", env={"SKYLET_CREDENTIALS": ""}
    )
    assert done.returncode == 2
    assert "needs S3 credentials" in done.stderr
