"""Hot reload in ``skylet up``: new code serves new requests, old invocations finish on the old
version, and a broken save keeps the previous version serving."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: reload
functions:
  greet:
    handler: greet.handler
    timeout_s: 10
"""

GREET = """
import time

def handler(event, context):
    time.sleep(event.get("sleep", 0))
    return "{version}"
"""


def invoke(server: Server, event: str = "{}") -> str:
    response = httpx.post(
        f"{server.url}/2015-03-31/functions/greet/invocations", content=event, timeout=30
    )
    assert response.status_code == 200, response.text
    return str(response.json())


def wait_for(server: Server, version: str) -> None:
    deadline = time.monotonic() + 15
    while (seen := invoke(server)) != version:
        assert time.monotonic() < deadline, f"still serving {seen!r}, not {version!r}"
        time.sleep(0.02)


@pytest.fixture
def greet(project: Callable[[str], Path]) -> Path:
    directory = project(MANIFEST)
    (directory / "greet.py").write_text(GREET.format(version="v1"))
    return directory


def test_a_saved_change_serves_new_requests_while_running_ones_finish_on_the_old_code(
    greet: Path, serve: Callable[..., Server]
) -> None:
    server = serve(greet)
    assert invoke(server) == "v1"
    slow: list[str] = []
    running = threading.Thread(target=lambda: slow.append(invoke(server, '{"sleep": 1.5}')))
    running.start()
    time.sleep(0.3)
    (greet / "greet.py").write_text(GREET.format(version="v2"))
    wait_for(server, "v2")
    running.join()
    assert slow == ["v1"]
    assert "reloaded greet" in server.output()


def test_a_syntax_error_is_reported_and_the_previous_version_keeps_serving(
    greet: Path, serve: Callable[..., Server]
) -> None:
    server = serve(greet)
    (greet / "greet.py").write_text(GREET.format(version="v2"))
    wait_for(server, "v2")
    (greet / "greet.py").write_text("def handler(event, context)\n    return 'v3'\n")
    deadline = time.monotonic() + 15
    while "reload failed" not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.02)
    assert "greet.py:1:" in server.output()
    # Even a cold start runs the last good version: scale to zero first.
    assert httpx.delete(f"{server.url}/_skylet/functions/greet/instances").status_code < 300
    assert invoke(server) == "v2"
    # Another file saved while greet.py is still broken: still no deploy of the broken file.
    (greet / "notes.py").write_text("NOTE = 1\n")
    time.sleep(0.5)
    assert httpx.delete(f"{server.url}/_skylet/functions/greet/instances").status_code < 300
    assert invoke(server) == "v2"
    (greet / "greet.py").write_text(GREET.format(version="v4"))
    wait_for(server, "v4")


def test_a_manifest_error_keeps_serving_and_a_fixed_manifest_deploys(
    greet: Path, serve: Callable[..., Server]
) -> None:
    server = serve(greet)
    (greet / "skylet.yaml").write_text(MANIFEST.replace("timeout_s: 10", "timeout_s: soon"))
    deadline = time.monotonic() + 15
    while "reload failed" not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.02)
    assert "functions.greet.timeout_s" in server.output()
    assert invoke(server) == "v1"
    (greet / "skylet.yaml").write_text(MANIFEST + "  again:\n    handler: greet.handler\n")
    deadline = time.monotonic() + 15
    while True:
        response = httpx.post(f"{server.url}/2015-03-31/functions/again/invocations", content="{}")
        if response.status_code == 200:
            break
        assert time.monotonic() < deadline, response.text
        time.sleep(0.02)
    assert response.json() == "v1"


def test_no_reload_ignores_changes(greet: Path, serve: Callable[..., Server]) -> None:
    server = serve(greet, "--no-reload")
    assert invoke(server) == "v1"
    (greet / "greet.py").write_text(GREET.format(version="v2"))
    time.sleep(1)
    assert invoke(server) == "v1"  # the warm instance was left alone
    assert "reloaded" not in server.output()


def test_a_data_directory_inside_the_project_is_not_code(
    greet: Path, serve: Callable[..., Server]
) -> None:
    # Its snapshots and database change all the time: watching them would reload endlessly,
    # and copying them would put every snapshot inside the next.
    state = greet / "state"
    server = serve(greet, "--data-dir", str(state))
    assert invoke(server) == "v1"
    (greet / "greet.py").write_text(GREET.format(version="v2"))
    wait_for(server, "v2")
    time.sleep(0.5)
    assert server.output().count("reloaded") == 1, server.output()
    snapshots = list((state / "code").iterdir())
    assert snapshots
    assert not any((snapshot / "state").exists() for snapshot in snapshots)
