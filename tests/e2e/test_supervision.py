"""A zygote that dies on a real ``skylet up`` (killed as the OOM killer may; a function cannot
kill it, tests/e2e/test_sandbox.py): the platform starts a new one at once, answers
``/health`` honestly meanwhile, and every function serves again, through the Invoke API and
HTTP routes alike."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.runtime_fixtures import descendants

pytestmark = pytest.mark.e2e

MANIFEST = """
service: supervised
functions:
  echo:
    handler: handlers.echo
    timeout_s: 3
    events:
      - http_api: GET /echo
  sleep:
    handler: handlers.sleep
    timeout_s: 30
"""


def _invoke(server: Server, name: str, event: object) -> httpx.Response:
    return httpx.post(
        f"{server.url}/2015-03-31/functions/{name}/invocations",
        content=json.dumps(event),
        timeout=60,
    )


def _zygote(server: Server) -> int:
    for pid in descendants(server.proc.pid):
        if b"skylet.worker.zygote" in Path(f"/proc/{pid}/cmdline").read_bytes():
            return pid
    raise AssertionError("no zygote below the server")


def _health(server: Server) -> tuple[str, int]:
    document = httpx.get(f"{server.url}/health").json()
    return document["status"], document["runtimeRestarts"]


def test_a_dead_zygote_does_not_take_the_functions_down(
    project: Callable[[str], Path], serve: Callable[..., Server]
) -> None:
    server = serve(project(MANIFEST))
    assert httpx.get(f"{server.url}/echo").status_code == 200
    assert _health(server) == ("ok", 0)
    in_flight: list[httpx.Response] = []
    sleeper = threading.Thread(
        target=lambda: in_flight.append(_invoke(server, "sleep", {"seconds": 25}))
    )
    sleeper.start()
    time.sleep(0.5)
    healths: list[tuple[int, str]] = []
    killed = time.monotonic()
    os.kill(_zygote(server), signal.SIGKILL)
    while True:
        health = httpx.get(f"{server.url}/health")
        healths.append((health.status_code, health.json()["status"]))
        if health.status_code == 200:
            break
        assert time.monotonic() - killed < 10, healths
    up_after = time.monotonic() - killed
    sleeper.join(10)
    route = httpx.get(f"{server.url}/echo", timeout=30)
    invoked = _invoke(server, "echo", {"again": True})
    served_after = time.monotonic() - killed
    print(f"zygote killed → /health 200 after {up_after * 1000:.0f} ms, served {healths}")
    assert set(healths) <= {(503, "restarting"), (200, "ok")}
    assert _health(server) == ("ok", 1)
    error = in_flight[0].json()
    assert in_flight[0].headers["x-amz-function-error"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "skylet's zygote process died" in error["errorMessage"]
    assert route.status_code == 200 and route.json()["event"]["rawPath"] == "/echo"
    assert invoked.status_code == 200 and invoked.json()["event"] == {"again": True}
    assert "x-amz-function-error" not in invoked.headers
    assert served_after < 5, "invocations waited for their timeout"
    assert "the zygote process died; starting a new one" in server.output()
