"""Snapshots (Lambda SnapStart): a function's template imports its handler and runs its init
once (:func:`take`); each instance, forked from that state, only restores
(:meth:`Snapshot.restore`).

The hooks are those of AWS's ``snapshot_restore_py`` (an installed copy, else skylet's, found
last on the path): before the snapshot, the ``register_before_snapshot`` ones, last registered
first; after each restore, the ``register_after_restore`` ones, in order. A failing hook is
``Runtime.BeforeSnapshotError`` (the init fails) or ``Runtime.AfterRestoreError`` (that
instance fails). After restore, ``random``'s global generator (and numpy's legacy one, when
numpy is loaded) is seeded again from the kernel, so that instances do not repeat each other;
``secrets``, ``uuid.uuid4`` and ``os.urandom`` read the kernel and need nothing.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from skylet.wire import frames
from skylet.worker import output
from skylet.worker.handler import InitError, load_handler, user_stack
from skylet.worker.web import flask_bridge

#: Where skylet's own ``snapshot_restore_py`` is, for functions whose code does not bring one.
LAMBDA_MODULES = str(Path(__file__).parent / "lambda_modules")
_HOOKS = "snapshot_restore_py"


class _Instance(Protocol):
    """What a restore needs of skylet.worker.instance.Instance."""

    handler: Any
    flask: flask_bridge.FlaskBridge | None

    def send(self, kind: int, meta: dict[str, Any] | None = None, body: bytes = b"") -> None: ...


@dataclass(slots=True)
class Snapshot:
    """The template's initialised function: its handler (and Flask app), kept by every fork."""

    handler: Any
    flask: flask_bridge.FlaskBridge | None

    def restore(self, instance: _Instance, since: float) -> None:
        """In a new instance, once its SPEC is set up: the after-restore hooks, fresh random
        state, READY (``restore_ms``: from ``since``, the SPEC's arrival (perf_counter), to
        ready; ``hooks_ms``: the hooks' share)."""
        started = time.perf_counter()
        instance.handler, instance.flask = self.handler, self.flask
        reseed()
        try:
            _run(after=True)
        except Exception as exc:
            error = _hook_error("Runtime.AfterRestoreError", exc)
            output.log(f"[ERROR] {error.error_type}: {error.message}")
            elapsed = (time.perf_counter() - started) * 1000
            instance.send(frames.READY, {"init_ms": elapsed, "error": error.payload(), "rss": 0})
            return
        now = time.perf_counter()
        meta = {"restore_ms": (now - since) * 1000, "hooks_ms": (now - started) * 1000, "rss": 0}
        instance.send(frames.READY, meta)


def take(spec: dict[str, Any], out_fd: int) -> tuple[Snapshot | None, dict[str, Any]]:
    """In the template, its environment set up for ``spec``: import the handler, run the
    init and the before-snapshot hooks, with their output on ``out_fd``; then freeze what the
    init built (the collector never writes to those pages, which every instance shares).
    Returns the snapshot (None if the init failed) and the ``initialized`` event's fields."""
    output.attach(out_fd)
    started = time.perf_counter()
    snapshot: Snapshot | None = None
    meta: dict[str, Any] = {}
    try:
        handler = load_handler(spec["handler"])
        bridge = None
        if spec.get("style") == "http" and flask_bridge.wanted():
            bridge = flask_bridge.bridge(spec["handler"].rsplit(".", 1)[0])
        try:
            _run(after=False)
        except Exception as exc:
            raise _hook_error("Runtime.BeforeSnapshotError", exc) from None
        snapshot = Snapshot(handler, bridge)
    except InitError as exc:
        output.log(f"[ERROR] {exc.error_type}: {exc.message}")
        meta["error"] = exc.payload()
    meta["init_ms"] = (time.perf_counter() - started) * 1000
    _detach_output()
    gc.freeze()
    return snapshot, meta


def reseed() -> None:
    random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        numpy_random.seed()


def _run(*, after: bool) -> None:
    hooks = sys.modules.get(_HOOKS)
    if hooks is None:  # the function never imported it: it registered nothing
        return
    if after:
        for func, args, kwargs in list(hooks.get_after_restore()):
            func(*args, **kwargs)
        return
    pending = hooks.get_before_snapshot()
    while pending:
        func, args, kwargs = pending.pop()
        func(*args, **kwargs)


def _hook_error(error_type: str, exc: Exception) -> InitError:
    return InitError(error_type, f"{type(exc).__name__}: {exc}", user_stack(exc.__traceback__))


def _detach_output() -> None:
    """The init's output pipe goes back to the platform; what the template writes after it
    (nothing of ours; a thread the init started) goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    if output.Output.fd >= 0:
        os.close(output.Output.fd)
        output.Output.fd = -1
    output.Output.written = False
