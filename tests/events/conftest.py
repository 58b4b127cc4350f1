"""Fixtures for the asynchronous invocation suite: both stores, a ticking clock, handler files.

``make_store``, ``store`` and ``clock`` come from ``tests/store_fixtures.py``. Here the clock
ticks: real time plus what a test adds with ``clock.advance(s)``, so leases and delays still
elapse on their own while a test can make an event six hours old in an instant.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store_fixtures import anyio_backend as anyio_backend
from tests.store_fixtures import clock as clock
from tests.store_fixtures import make_store as make_store
from tests.store_fixtures import store as store

HANDLERS = """
import json, os, time

OUT = os.environ.get("OUT", "/dev/null")


def _note(context, event, **extra):
    line = {"id": context.aws_request_id, "t": time.time(), "event": event, **extra}
    with open(OUT, "a") as out:
        out.write(json.dumps(line) + "\\n")


def ok(event, context):
    _note(context, event)
    return {"ok": True, "echo": event}


def fail(event, context):
    _note(context, event)
    raise ValueError("boom " + str(event.get("n")))


def slow(event, context):
    time.sleep(event.get("sleep", 1.0))
    _note(context, event)
    return "slept"


def sink(event, context):
    _note(context, event)


def gated(event, context):
    gate = os.environ.get("GATE", "")
    while gate and os.path.exists(gate):
        time.sleep(0.01)
    _note(context, event)
"""


@pytest.fixture
def clock_ticks() -> bool:
    return True


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    """A directory with ``handlers.py`` (ok, fail, slow, sink, gated); each appends a JSON line
    per call to the file named by its ``OUT`` variable. ``gated`` first waits while the file
    named by ``GATE`` exists."""
    directory = tmp_path / "code"
    directory.mkdir()
    (directory / "handlers.py").write_text(HANDLERS)
    return directory
