"""``kill -9`` of ``skylet up`` amid a stream of broker posts, then a restart on the same
store (SQLite, and PostgreSQL): every event the broker acknowledged (202) reaches the
trigger's function."""

from __future__ import annotations

import http.client
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent

from tests.e2e.conftest import FUNCTIONS, Server, start_server, stop_server

pytestmark = pytest.mark.e2e

EVENTS = 3_000
MANIFEST = """\
service: crash
functions:
  sink:
    handler: eventing_handlers.note
    environment: {{OUT: {out}}}
    events:
      - cloudevent: {{attributes: {{type: crash.test}}}}
"""


def post_stream(port: int, acked: list[str], stop: threading.Event, threads: int = 8) -> None:
    """Post ``EVENTS`` events over keep-alive connections until the server dies; the ids of
    those answered 202 go to ``acked``."""
    todo = iter(range(EVENTS))
    lock = threading.Lock()

    def sender() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not stop.is_set():
            with lock:
                n = next(todo, None)
            if n is None:
                return
            event = CloudEvent({"type": "crash.test", "source": "/crash", "id": f"e-{n}"}, {"n": n})
            headers, body = to_binary(event)
            try:
                connection.request("POST", "/_skylet/brokers/default", body, headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                return  # the server died: what it did not answer was not acknowledged
            if response.status == 202:
                with lock:
                    acked.append(f"e-{n}")

    workers = [threading.Thread(target=sender) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_acknowledged_event_is_lost_to_a_kill_9(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FUNCTIONS, project)
    out = tmp_path / "delivered.txt"
    (project / "skylet.yaml").write_text(MANIFEST.format(out=out))
    # The handler notes deliveries in a file the test reads: no sandbox.
    args = ["--no-reload", "--no-sandbox"]
    if backend == "postgres":
        url, schema = request.getfixturevalue("pg_schema")
        args += ["--store", f"{url}?schema={schema}"]
    server = start_server(project, *args)
    acked: list[str] = []
    stop = threading.Event()
    stream = threading.Thread(target=post_stream, args=(server.port, acked, stop))
    stream.start()
    deadline = time.monotonic() + 60
    while len(acked) < EVENTS // 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)
    stream.join(30)
    stop.set()
    killed_at = len(acked)
    assert EVENTS // 3 <= killed_at < EVENTS, "the kill did not land amid the stream"
    again: Server = start_server(project, *args)
    try:
        deadline = time.monotonic() + 90  # the dead node's leases (15 s) run out meanwhile
        missing = set(acked)
        while missing and time.monotonic() < deadline:
            delivered = set(out.read_text().split()) if out.exists() else set()
            missing -= delivered
            time.sleep(0.2)
        assert not missing, f"{len(missing)} of {len(acked)} acknowledged events were lost"
    finally:
        stop_server(again)
