"""The Lambda Extensions API (version 2020-01-01) in a custom runtime's relay
(skylet.worker.runtime_api): the executables in the layers' ``/opt/extensions/`` start before
the bootstrap, register for ``INVOKE`` and ``SHUTDOWN`` events and take them with ``GET
event/next``. The init ends once the runtime and every extension called their ``next``; an
invocation's response goes to the caller as soon as the runtime posts it, and the next
invocation waits until every extension registered for ``INVOKE`` called ``next`` again. A
retired instance's extensions get SHUTDOWN and 2 s (skylet.pool.instance.SHUTDOWN_GRACE_S).

Answers as AWS's runtime interface emulator gives them: 200 with ``Lambda-Extension-Identifier``
and ``{"functionName", "functionVersion", "handler"}`` to a registration; 403 with
``Extension.InvalidExtensionName`` (no ``Lambda-Extension-Name``),
``Extension.InvalidEventType``, ``InvalidRequestFormat``, ``Extension.RegistrationClosed``
(after the init), ``Extension.MissingExtensionIdentifier``,
``Extension.UnknownExtensionIdentifier``.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skylet.worker import linux

PREFIX = "/2020-01-01/extension/"
EVENTS = frozenset({"INVOKE", "SHUTDOWN"})
_PR_SET_PDEATHSIG = 1
_SIGKILL = 9

#: (status, body, extra headers) for one connection
Respond = Callable[[Any, int, bytes, dict[str, str] | None], None]


@dataclass(slots=True)
class Extension:
    name: str
    ident: str
    events: frozenset[str]
    waiting: Any = None  # the connection whose ``event/next`` is unanswered
    pending: deque[bytes] = field(default_factory=deque)
    called_next: bool = False


class Extensions:
    """The extensions of one instance: started, registered, and their events."""

    def __init__(self, spec: dict[str, Any], respond: Respond) -> None:
        self.spec = spec
        self.respond = respond
        self.started: list[str] = []
        self.by_id: dict[str, Extension] = {}
        self.closed = False  # registration ends with the init

    def launch(self, directory: Path, env: dict[str, str], stdout: int) -> None:
        """Start every executable in ``directory`` (sorted, as Lambda does), each dying with
        the relay, their output on ``stdout``."""
        if not directory.is_dir():
            return
        for path in sorted(directory.iterdir()):
            if not (path.is_file() and os.access(path, os.X_OK)):
                continue
            if os.fork() == 0:
                try:
                    with contextlib.suppress(OSError):
                        linux.prctl(_PR_SET_PDEATHSIG, _SIGKILL)
                    os.dup2(stdout, 1)
                    os.dup2(stdout, 2)
                    os.execve(str(path), [str(path)], env)
                finally:
                    os._exit(127)
            self.started.append(path.name)

    def ready(self) -> bool:
        """Every extension started has registered and asked for its first event."""
        registered = {e.name for e in self.by_id.values() if e.called_next}
        return all(name in registered for name in self.started)

    def idle(self) -> bool:
        """No extension registered for INVOKE is still busy with the last invocation."""
        return all(e.waiting is not None for e in self.by_id.values() if "INVOKE" in e.events)

    def subscribed(self, kind: str) -> bool:
        return any(kind in e.events for e in self.by_id.values())

    def shut_down(self) -> bool:
        """Every extension registered for SHUTDOWN took the event and asked for the next."""
        return all(
            e.waiting is not None and not e.pending
            for e in self.by_id.values()
            if "SHUTDOWN" in e.events
        )

    def invoke(self, meta: dict[str, Any], deadline_ms: int, trace: str) -> None:
        event = {
            "eventType": "INVOKE",
            "deadlineMs": deadline_ms,
            "requestId": meta["request_id"],
            "invokedFunctionArn": meta["arn"],
            "tracing": {"type": "X-Amzn-Trace-Id", "value": trace},
        }
        self._publish("INVOKE", json.dumps(event).encode())

    def shutdown(self, deadline_ms: int) -> None:
        event = {"eventType": "SHUTDOWN", "deadlineMs": deadline_ms, "shutdownReason": "spindown"}
        self._publish("SHUTDOWN", json.dumps(event).encode())

    def _publish(self, kind: str, event: bytes) -> None:
        for extension in self.by_id.values():
            if kind in extension.events:
                extension.pending.append(event)
                self._flush(extension)

    def _flush(self, extension: Extension) -> None:
        if extension.waiting is not None and extension.pending:
            conn, extension.waiting = extension.waiting, None
            headers = {"Lambda-Extension-Event-Identifier": str(uuid.uuid4())}
            self.respond(conn, 200, extension.pending.popleft(), headers)

    def forget(self, conn: Any) -> None:
        """A connection closed: whatever waited on it waits no more."""
        for extension in self.by_id.values():
            if extension.waiting is conn:
                extension.waiting = None

    def handle(
        self, conn: Any, method: str, route: str, headers: dict[str, str], body: bytes
    ) -> bool:
        """Serve one request under ``/2020-01-01/extension/``; True when an extension's state
        changed (it may have become ready or idle)."""
        if route == "register" and method == "POST":
            self._register(conn, headers, body)
            return False
        if route not in ("event/next", "init/error", "exit/error"):
            self.respond(conn, 404, b"404 page not found\n", None)
            return False
        ident = headers.get("lambda-extension-identifier", "")
        if not ident:
            self._refuse(
                conn,
                "Extension.MissingExtensionIdentifier",
                "Missing Lambda-Extension-Identifier header",
            )
            return False
        extension = self.by_id.get(ident)
        if extension is None:
            self._refuse(conn, "Extension.UnknownExtensionIdentifier", f"Unknown extension {ident}")
            return False
        if route == "event/next":
            if method != "GET":
                self.respond(conn, 405, b"", None)
                return False
            extension.called_next = True
            extension.waiting = conn
            self._flush(extension)
            return True
        self.respond(conn, 202, b'{"status": "OK"}', None)
        return False

    def _register(self, conn: Any, headers: dict[str, str], body: bytes) -> None:
        name = headers.get("lambda-extension-name", "")
        if not name:
            self._refuse(conn, "Extension.InvalidExtensionName", "Empty extension name")
            return
        try:
            request = json.loads(body or b"{}")
            events = request.get("events", [])
            if not isinstance(events, list):
                raise ValueError("events is not a list")
        except (ValueError, AttributeError) as exc:
            self._refuse(conn, "InvalidRequestFormat", str(exc))
            return
        for event in events:
            if event not in EVENTS:
                self._refuse(conn, "Extension.InvalidEventType", f"{event}: invalid event type")
                return
        if self.closed:
            self._refuse(conn, "Extension.RegistrationClosed", "Extension registration closed")
            return
        ident = str(uuid.uuid4())
        self.by_id[ident] = Extension(name, ident, frozenset(events))
        answer = {
            "functionName": self.spec["function_name"],
            "functionVersion": self.spec["function_version"],
            "handler": self.spec["handler"],
        }
        self.respond(conn, 200, json.dumps(answer).encode(), {"Lambda-Extension-Identifier": ident})

    def _refuse(self, conn: Any, error_type: str, message: str) -> None:
        body = json.dumps({"errorMessage": message, "errorType": error_type}).encode()
        self.respond(conn, 403, body, None)
