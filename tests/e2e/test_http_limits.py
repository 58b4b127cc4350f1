"""The HTTP server's limits in a real ``skylet up``: under a low limit on open files (200, as
``ulimit -n 200`` sets it), hundreds of idle connections do not keep ``/health`` or an Invoke
from being answered (the cap closes idle connections first, skylet.gateway.http1.accept)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, project_dir, start_server, stop_server
from tests.e2e.test_http_connections import Reader, request

pytestmark = pytest.mark.e2e

MANIFEST = """
service: crowded
functions:
  shaped:
    handler: web_handlers.shaped
    events:
      - http_api: {method: GET, path: /shape}
"""


@pytest.fixture(scope="module")
def crowded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = project_dir(tmp_path_factory.mktemp("crowded"), MANIFEST)
    server = start_server(directory, "--no-reload", open_files=200)
    yield server
    stop_server(server)


def _ask(server: Server, data: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(data)
        return Reader(sock).response()


def test_260_idle_connections_under_200_descriptors_leave_health_and_invoke_answering(
    crowded: Server,
) -> None:
    assert _open_files_limit(crowded) == 200
    idle = []
    try:
        for _ in range(260):
            idle.append(socket.create_connection(("127.0.0.1", crowded.port), timeout=30))
        for _ in range(3):
            status, _, body = _ask(crowded, request("GET", "/health"))
            assert (status, json.loads(body)["status"]) == (200, "ok")
            invoke = request(
                "POST", "/2015-03-31/functions/shaped/invocations", b'{"queryStringParameters": {}}'
            )
            status, _, body = _ask(crowded, invoke)
            assert (status, json.loads(body)["body"]) == (200, "ok")
            status, _, body = _ask(crowded, request("GET", "/shape?kind=ok"))
            assert (status, body) == (200, b"ok")
        # The idle ones made room: the first of them were closed, none was answered.
        assert Reader(idle[0]).closed()
    finally:
        for sock in idle:
            sock.close()
    assert "Traceback" not in crowded.output()


def _open_files_limit(server: Server) -> int:
    for line in Path(f"/proc/{server.proc.pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    raise AssertionError("no limit on open files found")
