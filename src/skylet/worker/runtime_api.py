"""The Lambda Runtime API inside an instance, for functions whose runtime is an executable
``bootstrap`` (``provided.al2023``, Node.js through its runtime interface client, …).

The instance forks once its SPEC arrived: the child keeps the platform's pipes and serves the
Runtime API (version 2018-06-01) on a loopback port; the instance itself executes the
bootstrap with ``AWS_LAMBDA_RUNTIME_API`` pointing at that port. So the process the platform
started, watches and kills *is* the bootstrap: its resident memory is the one polled, its exit
status is the one reported (``Runtime.ExitError``, "exit status 3", "signal: killed"), and with
a PID namespace its death takes the relay with it. Without one the relay dies with its parent
(``PR_SET_PDEATHSIG``).

The relay answers as AWS's runtime interface emulator does (docs/runtime.md, "Custom
runtimes"): ``GET /runtime/invocation/next`` waits until the platform writes an INVOKE and
answers with the event and the ``Lambda-Runtime-*`` headers; ``POST
/runtime/invocation/{id}/response`` and ``…/error`` answer 202 ``{"status":"OK"}``, 400
``InvalidRequestID`` for another id, 403 ``InvalidStateTransition`` out of order, 413 past
Lambda's response limit; ``POST /runtime/init/error`` fails the init. The first ``next``
ends the init (its duration is Init Duration). An INVOKE is read from the pipe only when the
runtime asked for one, so write-ahead and bouncing (``not_after``) work as with Python
functions.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import socket
import sys
import time
import traceback
from collections import deque
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import httptools

from skylet import fastjson
from skylet.wire import frames
from skylet.wire.http import HttpResponse
from skylet.wire.invocation import MAX_RESPONSE_BYTES
from skylet.worker import apigw, extensions_api, http_trigger, linux, output
from skylet.worker.instance import Instance, to_json
from skylet.worker.runtime_http import Connection, Request, error_document, valid_error_type

PREFIX = "/2018-06-01/runtime/"
#: Where Lambda finds external extensions: the layers' ``extensions/``.
OPT_EXTENSIONS = Path("/opt/extensions")
_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
#: The shutdown phase with external extensions (the platform kills the instance after it).
SHUTDOWN_S = 2.0
_PR_SET_PDEATHSIG = 1
_SIGKILL = 9
_INVOCATION = re.compile(r"^invocation/([^/]+)/(response|error)$")
_STATE_ERROR = (
    "State transition from {} to {} failed for runtime. Error: State transition is not allowed"
)


def start(spec: dict[str, Any], rfile: BinaryIO, write_fd: int, arrived: float) -> NoReturn:
    """Fork the relay, then become the bootstrap (``spec["bootstrap"]``: its argv). Never
    returns. A bootstrap that is missing or not executable fails the init
    (``Runtime.InvalidEntrypoint``, as Lambda's "Couldn't find valid bootstrap(s)")."""
    argv: list[str] = list(spec["bootstrap"])
    instance = Relay(spec, rfile, write_fd, arrived)
    if spec.get("bootstrap_error"):
        instance.init_failed("Runtime.InvalidEntrypoint", spec["bootstrap_error"])
        os._exit(0)
    fallback = spec.get("bootstrap_fallback")  # /opt/bootstrap, from a layer
    if fallback and not Path(argv[0]).exists() and os.access(fallback, os.X_OK):
        argv[0] = fallback
    if not (Path(argv[0]).is_file() and os.access(argv[0], os.X_OK)):
        instance.init_failed(
            "Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{argv[0]}]"
        )
        os._exit(0)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    os.environ["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{listener.getsockname()[1]}"
    # The bootstrap's stdout and stderr come to the relay, which passes them on to the output
    # pipe: so it knows whether an invocation printed, and writes the marker that ends its
    # output (skylet.pool.channel.OutputReader) only then, not a write on every invocation.
    printed, printing = os.pipe()
    parent = os.getpid()
    if os.fork() == 0:
        code = 0
        try:
            with contextlib.suppress(OSError):
                linux.prctl(_PR_SET_PDEATHSIG, _SIGKILL)
            if os.getppid() != parent and parent != 1:
                os._exit(0)  # the bootstrap is already gone
            if spec.get("layers"):
                instance.extensions.launch(OPT_EXTENSIONS, dict(os.environ), printing)
            os.close(printing)
            instance.serve_api(listener, parent, printed)
        except BaseException:
            code = 1
            traceback.print_exc()
        finally:
            os._exit(code)
    listener.close()
    rfile.close()
    os.close(write_fd)
    os.close(output.Output.fd)
    os.dup2(printing, 1)
    os.dup2(printing, 2)
    os.close(printing)
    os.close(printed)
    try:
        os.execve(argv[0], argv, os.environ)
    except OSError as exc:
        print(f"Runtime failed to start the bootstrap {argv[0]}: {exc}", file=sys.stderr)
    os._exit(127)


class Relay(Instance):
    """The Runtime API's side of one instance. ``state`` has the emulator's names: Started
    (before the first ``next``), Ready (waiting for an invocation), Running, and
    RuntimeResponseSentState (answered, before the next ``next``); InitError after
    ``/init/error``."""

    def __init__(self, spec: dict[str, Any], rfile: BinaryIO, write_fd: int, arrived: float):
        super().__init__(spec, rfile, write_fd)
        self.arrived = arrived
        self.state = "Started"
        self.bootstrap_pid = 0
        self.peak_kb = 0
        self.read_fd = rfile.fileno()
        self.buffer = bytearray()
        self.waiting: deque[Connection] = deque()  # connections whose ``next`` is unanswered
        self.current: dict[str, Any] | None = None  # the INVOKE being run: its meta
        self.event = b""
        self.wire: apigw.Wire | None = None
        self.started = 0.0
        self.deadline_ms = 0
        self.printed = -1
        self.statm = -1  # the bootstrap's /proc/PID/statm
        self.trace = ""
        self.shutdown_until = 0.0  # monotonic: the end of the shutdown phase, once begun
        self.runtime_asked = False  # its first ``next``, in the init
        self.extensions = extensions_api.Extensions(spec, self._answer_extension)
        self.poller = select.poll()
        self.connections: dict[int, Connection] = {}
        self.pipe_polled = False

    # -- the platform's side -----------------------------------------------------------------

    def peak_rss_kb(self) -> int:
        """The bootstrap's resident memory (the highest seen), which the platform compares
        with the function's limit."""
        try:
            if self.statm < 0:  # kept open: a pread costs a few µs, an open ~20
                self.statm = os.open(f"/proc/{self.bootstrap_pid}/statm", os.O_RDONLY)
            resident = int(os.pread(self.statm, 128, 0).split()[1]) * _PAGE_KB
        except (OSError, ValueError, IndexError):
            resident = 0
        self.peak_kb = max(self.peak_kb, resident)
        return self.peak_kb

    def init_failed(self, error_type: str, message: str, document: Any = None) -> None:
        error = document if isinstance(document, dict) else {}
        error = {"errorMessage": message, "errorType": error_type, **error}
        error.setdefault("requestId", "")
        error.setdefault("stackTrace", [])
        self.pass_output()
        output.log(f"[ERROR] {error['errorType']}: {error['errorMessage']}")
        init_ms = (time.perf_counter() - self.arrived) * 1000
        self.send(frames.READY, {"init_ms": init_ms, "error": error, "rss": self.peak_rss_kb()})

    def read_invoke(self) -> bool:
        """Take the next INVOKE from the pipe, if a whole one is there; False at SHUTDOWN or
        end of file. Sets ``current`` (None when it was bounced or refused)."""
        while True:
            header = frames.HEADER
            if len(self.buffer) >= header.size:
                kind, meta_len, body_len = header.unpack_from(self.buffer)
                end = header.size + meta_len + body_len
                if len(self.buffer) >= end:
                    meta = frames.decode_meta(
                        bytes(self.buffer[header.size : header.size + meta_len])
                    )
                    body = bytes(self.buffer[header.size + meta_len : end])
                    del self.buffer[:end]
                    if kind == frames.SHUTDOWN:
                        return False
                    if kind == frames.INVOKE:
                        self.take(meta, body)
                        if self.current is not None:
                            return True
                    continue
            if self.current is not None:
                return True
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            self.buffer += chunk

    def take(self, meta: dict[str, Any], payload: bytes) -> None:
        """Check an INVOKE as the Python runtime does (bounced, not JSON, an HTTP request to
        turn into its event) and make it ``current``."""
        self.seq = meta.get("seq", 0)
        not_after = meta.get("not_after")
        if not_after is not None and time.monotonic() > not_after:
            self.send(frames.BOUNCED, {"seq": self.seq})
            return
        self.wire = None
        try:
            if "http" in meta:
                self.wire = apigw.from_wire(meta["http"], payload)
                event = fastjson.dumps(http_trigger.lambda_event(self.wire))
            elif payload.strip():
                fastjson.parse_event(payload)
                event = payload
            else:
                event = b"{}"
        except fastjson.NotJson as exc:
            self.send(frames.BAD_PAYLOAD, {"message": str(exc), "seq": self.seq})
            return
        except (TypeError, ValueError) as exc:
            message = f"Could not parse request body into json: {exc}"
            self.send(frames.BAD_PAYLOAD, {"message": message, "seq": self.seq})
            return
        self.current = meta
        self.event = event

    def answer(self, body: bytes, error: dict[str, Any] | None) -> None:
        """RESULT for ``current``: what the runtime posted, as the Python runtime frames it."""
        answer: HttpResponse | str | None = None
        if error is None and self.wire is not None:
            try:
                answer = http_trigger.lambda_answer(self.wire, json.loads(body or b"null"), to_json)
            except apigw.MalformedResponse as exc:
                answer = str(exc)
            except (TypeError, ValueError) as exc:
                answer = f"Malformed Lambda proxy response: {exc}"
            body = b""
        # What the bootstrap printed before it posted is in its pipe by now.
        self.pass_output()
        self.current = None
        self.finish(self.started, body, error, answer)

    # -- the runtime's side ------------------------------------------------------------------

    def serve_api(self, listener: socket.socket, bootstrap_pid: int, printed: int) -> None:
        """Serve until the platform is done (SHUTDOWN, end of file); ``printed``: the read end
        of the bootstrap's stdout and stderr."""
        self.bootstrap_pid = bootstrap_pid
        self.printed = printed
        os.set_blocking(printed, False)
        self.poller.register(printed, select.POLLIN)
        os.set_blocking(self.read_fd, False)
        leftover = self.rfile.peek(1 << 16)  # type: ignore[attr-defined]  # what the buffered reader read past the SPEC
        self.buffer += self.rfile.read(len(leftover)) if leftover else b""
        self.poller.register(listener.fileno(), select.POLLIN)
        while True:
            wait_ms = None
            if self.shutdown_until:  # the shutdown phase: until every extension is done
                left = self.shutdown_until - time.monotonic()
                if left <= 0 or self.extensions.shut_down():
                    return
                wait_ms = max(1, int(left * 1000))
            for fd, _events in self.poller.poll(wait_ms):
                if fd == listener.fileno():
                    sock, _ = listener.accept()
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    conn = Connection(sock)
                    conn.parser = httptools.HttpRequestParser(conn)
                    self.connections[sock.fileno()] = conn
                    self.poller.register(sock.fileno(), select.POLLIN)
                elif fd == self.read_fd:
                    if not self.deliver() and not self.shutdown():
                        return
                elif fd == printed:
                    self.pass_output()
                elif (known := self.connections.get(fd)) is not None:
                    self.readable(known)
            # a whole INVOKE may already be buffered
            if self.buffer and self.can_take() and not self.deliver() and not self.shutdown():
                return

    def shutdown(self) -> bool:
        """The platform is done (SHUTDOWN, or its pipe closed): the extensions registered for
        SHUTDOWN get the event and Lambda's 2 s to finish; False when there are none."""
        if self.pipe_polled:
            self.poller.unregister(self.read_fd)
            self.pipe_polled = False
        if self.shutdown_until or not self.extensions.subscribed("SHUTDOWN"):
            return False
        self.shutdown_until = time.monotonic() + SHUTDOWN_S
        self.extensions.shutdown(int(time.time() * 1000 + SHUTDOWN_S * 1000))
        return True

    def pass_output(self) -> None:
        """What the bootstrap printed so far, on to the output pipe."""
        while self.printed >= 0:
            try:
                data = os.read(self.printed, 1 << 16)
            except BlockingIOError:
                return
            if not data:  # the bootstrap and its children closed it
                self.poller.unregister(self.printed)
                os.close(self.printed)
                self.printed = -1
                return
            output.log_raw(data)

    def readable(self, conn: Connection) -> None:
        try:
            data = conn.sock.recv(1 << 16)
        except OSError:
            data = b""
        if not data:
            self.drop(conn)
            return
        try:
            conn.parser.feed_data(data)
        except httptools.HttpParserError:
            self.respond(conn, 400, b"400 Bad Request", "text/plain; charset=utf-8")
            self.drop(conn)
            return
        while conn.done:
            self.handle(conn, conn.done.popleft())
        if not conn.keep_alive and conn not in self.waiting:
            self.drop(conn)

    def drop(self, conn: Connection) -> None:
        fd = conn.sock.fileno()
        self.connections.pop(fd, None)
        with contextlib.suppress(KeyError, ValueError):
            self.poller.unregister(fd)
        with contextlib.suppress(ValueError):
            self.waiting.remove(conn)
        self.extensions.forget(conn)
        conn.sock.close()

    def respond(
        self,
        conn: Connection,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> None:
        reason = _REASONS.get(status, "")
        head = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        head.append(f"Content-Length: {len(body)}")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        with contextlib.suppress(OSError):
            conn.sock.sendall(data)

    def _answer_extension(
        self, conn: Connection, status: int, body: bytes, headers: dict[str, str] | None
    ) -> None:
        kind = "application/json" if body.startswith(b"{") else "text/plain; charset=utf-8"
        self.respond(conn, status, body, kind, headers)

    def refuse(self, conn: Connection, status: int, error_type: str, message: str) -> None:
        document = {"errorMessage": message, "errorType": error_type}
        self.respond(conn, status, json.dumps(document).encode())

    def handle(self, conn: Connection, request: Request) -> None:
        if request.path.startswith(extensions_api.PREFIX):
            route = request.path[len(extensions_api.PREFIX) :]
            args = (request.method, route, request.headers, request.body)
            if self.extensions.handle(conn, *args):
                self.progress()
            return
        if not request.path.startswith(PREFIX):
            self.respond(conn, 404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        route = request.path[len(PREFIX) :]
        if route == "invocation/next":
            if request.method != "GET":
                self.respond(conn, 405, b"", "text/plain; charset=utf-8")
            else:
                self.next(conn)
            return
        if route == "init/error":
            if request.method != "POST":
                self.respond(conn, 405, b"", "text/plain; charset=utf-8")
            else:
                self.init_error(conn, request)
            return
        match = _INVOCATION.match(route)
        if match is None:
            self.respond(conn, 404, b"404 page not found\n", "text/plain; charset=utf-8")
        elif request.method != "POST":
            self.respond(conn, 405, b"", "text/plain; charset=utf-8")
        else:
            self.posted(conn, request, match.group(1), match.group(2))

    def next(self, conn: Connection) -> None:
        if self.state == "InitError":
            message = _STATE_ERROR.format("InitError", "Ready")
            self.refuse(conn, 403, "InvalidStateTransition", message)
            return
        if self.state == "Running" and self.current is not None:
            self.deliver_to(conn)  # the emulator hands the running invocation out again
            return
        self.waiting.append(conn)
        if self.state == "Started":
            self.runtime_asked = True
        else:
            self.state = "Ready"
        self.progress()

    def progress(self) -> None:
        """The init ends once the runtime and every extension asked for their first event;
        the next invocation is read once the runtime waits for it and no extension is busy."""
        if self.state == "Started":
            if not (self.runtime_asked and self.extensions.ready()):
                return
            self.extensions.closed = True
            init_ms = (time.perf_counter() - self.arrived) * 1000
            self.send(frames.READY, {"init_ms": init_ms, "rss": self.peak_rss_kb()})
            self.state = "Ready"
        if self.can_take() and not self.pipe_polled:
            self.poller.register(self.read_fd, select.POLLIN)
            self.pipe_polled = True

    def can_take(self) -> bool:
        """An invocation may be read: the init is over, the runtime waits for one, and no
        extension is still busy with the last one."""
        idle = self.state != "Started" and self.current is None
        return bool(idle and self.waiting and self.extensions.idle())

    def deliver(self) -> bool:
        """An INVOKE for the runtime that waits for one; False when the platform is done."""
        if not self.read_invoke():
            return False
        if self.current is not None and self.waiting:
            if self.pipe_polled:
                self.poller.unregister(self.read_fd)
                self.pipe_polled = False
            self.state = "Running"
            self.started = time.perf_counter()
            meta = self.current
            self.deadline_ms = int(time.time() * 1000) + meta["timeout_ms"]
            output.Output.request_id = meta["request_id"]
            self.trace = _trace_id(meta["request_id"])
            self.deliver_to(self.waiting.popleft())
            if self.extensions.by_id:
                self.extensions.invoke(meta, self.deadline_ms, self.trace)
        return True

    def deliver_to(self, conn: Connection) -> None:
        meta = self.current
        assert meta is not None
        request_id = meta["request_id"]
        headers = {
            "Lambda-Runtime-Aws-Request-Id": request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": meta["arn"],
            "Lambda-Runtime-Trace-Id": self.trace,
        }
        if meta.get("client_context") is not None:
            headers["Lambda-Runtime-Client-Context"] = json.dumps(meta["client_context"])
        if meta.get("identity") is not None:
            headers["Lambda-Runtime-Cognito-Identity"] = json.dumps(meta["identity"])
        self.respond(conn, 200, self.event, "application/json", headers)

    def posted(self, conn: Connection, request: Request, request_id: str, what: str) -> None:
        target = "InvocationResponse" if what == "response" else "InvocationErrorResponse"
        if self.state != "Running":
            self.refuse(
                conn, 403, "InvalidStateTransition", _STATE_ERROR.format(self.state, target)
            )
            return
        assert self.current is not None
        if request_id != self.current["request_id"]:
            self.refuse(conn, 400, "InvalidRequestID", "Invalid request ID")
            return
        accepted = json.dumps({"status": "OK"}).encode()
        if what == "error":
            error_type = valid_error_type(
                request.headers.get("lambda-runtime-function-error-type", "")
            )
            self.state = "RuntimeResponseSentState"
            self.respond(conn, 202, accepted)
            self.answer(b"", error_document(request.body, error_type))
            return
        mode = request.headers.get("lambda-runtime-function-response-mode")
        if mode is not None and mode != "streaming":
            self.refuse(conn, 400, "InvalidFunctionResponseMode", "Invalid function response mode")
            self.state = "RuntimeResponseSentState"
            error = {"errorType": "Runtime.InvalidResponseModeHeader", "errorMessage": ""}
            self.answer(b"", error)
            return
        self.state = "RuntimeResponseSentState"
        if request.oversize:
            message = f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            self.refuse(conn, 413, "RequestEntityTooLarge", message)
            error = {
                "errorMessage": "Response payload size exceeded maximum allowed payload size "
                f"({MAX_RESPONSE_BYTES} bytes).",
                "errorType": "Function.ResponseSizeTooLarge",
            }
            self.answer(b"", error)
            return
        self.respond(conn, 202, accepted)
        self.answer(request.body, None)

    def init_error(self, conn: Connection, request: Request) -> None:
        if self.state != "Started":
            self.refuse(
                conn, 403, "InvalidStateTransition", _STATE_ERROR.format(self.state, "InitError")
            )
            return
        self.state = "InitError"
        error_type = valid_error_type(request.headers.get("lambda-runtime-function-error-type", ""))
        document = error_document(request.body, error_type)
        self.respond(conn, 202, json.dumps({"status": "OK"}).encode())
        self.init_failed(error_type, str(document.get("errorMessage", "")), document)


def _trace_id(request_id: str) -> str:
    """An X-Ray trace header of the form Lambda passes (``Root=1-<8 hex time>-<24 hex>``)."""
    digits = request_id.replace("-", "")[:24].ljust(24, "0")
    return f"Root=1-{int(time.time()):08x}-{digits};Sampled=0"


_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
}
