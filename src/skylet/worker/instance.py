"""The life of an instance after the zygote forked it: set up, init, serve invocations.

Runs in the forked child only. It enforces nothing (the platform kills it on timeout or when it
uses too much memory); it reports its init duration, each handler's duration and its peak RSS.
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import importlib
import importlib.machinery
import inspect
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from skylet import fastjson
from skylet.wire import frames
from skylet.wire import http as wire_http
from skylet.worker import apigw, http_envelope, http_trigger, imports, output, sandbox, web
from skylet.worker.context import BackgroundContext, LambdaContext
from skylet.worker.handler import InitError, load_handler, user_stack
from skylet.worker.snapstart import LAMBDA_MODULES, Snapshot
from skylet.worker.web import flask_bridge

#: The highest: the OOM killer chooses among instances first (``prepare_process``).
OOM_SCORE_ADJ = 1000


def to_json(result: Any) -> str:
    """A handler's result as Lambda's Python runtime serialises it."""
    return json.dumps(result, default=json_default)


def json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def prepare_process(out_fd: int) -> None:
    """Everything an instance does that does not depend on its function.

    Runs in a spare process its template forks ahead of demand, so a cold start does not pay
    for it. The invocation path was rehearsed in the template (skylet.worker.rehearsals), not
    here: what that touched stays shared by every instance instead of copied into each.
    """
    os.setsid()  # its own process group: the platform kills the instance and its children at once
    output.attach(out_fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Under memory pressure the kernel's OOM killer takes an instance, whose death the platform
    # answers for one invocation, before the zygote or the platform itself (raising one's own
    # score needs no privilege).
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write(str(OOM_SCORE_ADJ))
    except OSError:
        pass
    output.Output.written = False
    sandbox.non_dumpable()


#: The environment this process (a template) was set up with; its instances change only what
#: differs from it.
_established: dict[str, str] | None = None
#: The keys this process changed away from ``_established`` since (a spare's rehearsal).
_touched: set[str] = set()


def warm_import(handler: str) -> None:
    """Find (never run) the handler's top-level module, so that the import path's finder of
    the code directory, and its listing, are made once in the template, not in each instance."""
    top = handler.rsplit(".", 1)[0].replace("/", ".").split(".")[0]
    with contextlib.suppress(ImportError, ValueError, OSError):
        importlib.machinery.PathFinder.find_spec(top)


def setup_process(spec: dict[str, Any]) -> None:
    """Environment, working directory, import path and limits for one function.

    Idempotent, and cheap the second time: the template sets all of it up once for its
    function, so an instance changes only what differs (its log stream, its init type).
    Every change in a forked instance copies the pages it writes: clearing and refilling the
    whole environment there cost ~0.5 MB of unique memory per instance, and ~0.3 ms of the
    cold start in page faults."""
    global _established
    environ, env = os.environ, spec["env"]
    zone = environ.get("TZ")
    if _established is None:  # the template: all of it
        environ.clear()
        environ.update(env)
        _established = dict(env)
    else:  # an instance: the differences from the template's, found in plain dicts
        for key in _established.keys() - env.keys():
            environ.pop(key, None)
            _touched.add(key)
        for key, value in env.items():
            if key in _touched or _established.get(key) != value:
                environ[key] = value
                _touched.add(key)
    if environ.get("TZ") != zone:
        time.tzset()
    code_dir = spec["code_dir"]
    try:
        here = str(Path.cwd())
    except OSError:  # removed under us
        here = ""
    if here != code_dir:
        os.chdir(code_dir)
    # The function's code and requirements, the standard library, the AWS SDK, and Lambda's
    # snapshot_restore_py (skylet's copy, unless the function brings one): nothing else.
    imports.isolate([code_dir, *spec.get("extra_path", [])], [LAMBDA_MODULES])
    output.configure(env)
    limit = spec.get("rlimit_data_bytes")
    if limit and resource.getrlimit(resource.RLIMIT_DATA) != (limit, limit):
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


class Instance:
    """Serves INVOKE frames one at a time until SHUTDOWN or EOF.

    The platform may write INVOKEs ahead of the one running; they wait in the pipe. One read
    after its ``not_after`` (monotonic seconds) is bounced unrun: the platform has given it to
    another instance by then, since this one was still busy.
    """

    def __init__(self, spec: dict[str, Any], rfile: BinaryIO, write_fd: int) -> None:
        self.spec = spec
        self.rfile = rfile
        self.write_fd = write_fd
        self.handler: Callable[..., Any] | None = None
        #: For an HTTP function whose code imported Flask: the request context it expects.
        self.flask: flask_bridge.FlaskBridge | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.seq = 0  # the INVOKE being answered
        # Written to stdout after an invocation's output, so the platform can tell it from the
        # next one's when several invocations were written ahead.
        self.marker = spec.get("output_marker", "").encode()

    def send(self, kind: int, meta: dict[str, Any] | None = None, body: bytes = b"") -> None:
        data = memoryview(frames.encode(kind, meta, body))
        while data:
            data = data[os.write(self.write_fd, data) :]

    def peak_rss_kb(self) -> int:
        """The peak resident memory the platform holds against the function's limit."""
        return max_rss_kb()

    def init(self) -> None:
        started = time.perf_counter()
        try:
            self.handler = load_handler(self.spec["handler"])
            if self.spec.get("style") == "http" and flask_bridge.wanted():
                self.flask = flask_bridge.bridge(self.spec["handler"].rsplit(".", 1)[0])
        except InitError as exc:
            init_ms = (time.perf_counter() - started) * 1000
            output.log(f"[ERROR] {exc.error_type}: {exc.message}")
            self.send(
                frames.READY, {"init_ms": init_ms, "error": exc.payload(), "rss": max_rss_kb()}
            )
            return
        init_ms = (time.perf_counter() - started) * 1000
        self.send(frames.READY, {"init_ms": init_ms, "rss": self.peak_rss_kb()})

    def serve(self) -> None:
        header = frames.HEADER
        while self.handler is not None:
            raw = self.rfile.read(header.size)
            if len(raw) < header.size:
                return
            kind, meta_len, body_len = header.unpack(raw)
            meta = frames.decode_meta(self.rfile.read(meta_len))
            body = self.rfile.read(body_len)
            if kind == frames.SHUTDOWN:
                return
            if kind == frames.INVOKE:
                self.seq = meta.get("seq", 0)
                not_after = meta.get("not_after")
                if not_after is not None and time.monotonic() > not_after:
                    self.send(frames.BOUNCED, {"seq": self.seq})
                    continue
                self.invoke(meta, body)

    def invoke(self, meta: dict[str, Any], payload: bytes) -> None:
        request_id = meta["request_id"]
        output.Output.request_id = request_id
        # As Lambda sets _X_AMZN_TRACE_ID per invocation (botocore sends it on as
        # X-Amzn-Trace-Id), and W3C's TRACEPARENT, for a function's own OTel or X-Ray SDK.
        trace = meta.get("trace")
        if trace is not None:
            os.environ["TRACEPARENT"], os.environ["_X_AMZN_TRACE_ID"] = trace
        else:
            os.environ.pop("TRACEPARENT", None)
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        style = self.spec.get("style", "lambda")
        wire: apigw.Wire | None = None
        if "http" in meta:  # from an HTTP route: the request itself, not an event
            try:
                wire = apigw.from_wire(meta["http"], payload)
            except (TypeError, ValueError) as exc:
                message = f"Not an HTTP request: {exc}"
                self.send(frames.BAD_PAYLOAD, {"message": message, "seq": self.seq})
                return
        if style not in ("lambda", "background"):
            self.invoke_web(style, request_id, payload, wire)
            return
        try:
            if wire is not None:
                event = http_trigger.lambda_event(wire)
            else:
                event = fastjson.parse_event(payload) if payload.strip() else {}
        except fastjson.NotJson as exc:
            self.send(frames.BAD_PAYLOAD, {"message": str(exc), "seq": self.seq})
            return
        except (TypeError, ValueError) as exc:
            message = f"Could not parse request body into json: {exc}"
            self.send(frames.BAD_PAYLOAD, {"message": message, "seq": self.seq})
            return
        spec = self.spec
        if style == "background":
            self.invoke_background(request_id, event)
            return
        # The timeout runs from the moment the invocation starts, here, not from when it was
        # written: it may have waited behind another.
        context = LambdaContext(
            aws_request_id=request_id,
            deadline_ms=int(time.time() * 1000) + meta["timeout_ms"],
            invoked_function_arn=meta["arn"],
            function_name=spec["function_name"],
            function_version=spec["function_version"],
            memory_limit_in_mb=str(spec["memory_mb"]),
            log_group_name=spec["env"]["AWS_LAMBDA_LOG_GROUP_NAME"],
            log_stream_name=spec["env"]["AWS_LAMBDA_LOG_STREAM_NAME"],
            identity=meta.get("identity"),
            client_context=meta.get("client_context"),
            traceparent=trace[0] if trace is not None else None,
        )
        assert self.handler is not None
        started = time.perf_counter()
        error: dict[str, Any] | None = None
        body = b""
        answer: wire_http.HttpResponse | str | None = None
        try:
            result = self.call(event, context)
        except Exception as exc:
            error = _report_error(exc, request_id)
        else:
            try:
                if wire is None:
                    body = to_json(result).encode()
                else:
                    answer = http_trigger.lambda_answer(wire, result, to_json)
            except apigw.MalformedResponse as exc:
                answer = str(exc)  # API Gateway's to answer; the invocation itself succeeded
            except (TypeError, ValueError, RecursionError) as exc:  # RecursionError: too deep
                error = {
                    "errorMessage": f"Unable to marshal response: {exc}",
                    "errorType": "Runtime.MarshalError",
                    "requestId": request_id,
                    "stackTrace": [],
                }
                output.log(f"[ERROR] Runtime.MarshalError: {error['errorMessage']}")
        self.finish(started, body, error, answer)

    def invoke_background(self, request_id: str, event: Any) -> None:
        """A Cloud Functions background function: ``function(data, context)``, where the event
        is ``{"data": …, "context": {eventId, timestamp, eventType, resource}}``."""
        started = time.perf_counter()
        error: dict[str, Any] | None = None
        try:
            data, metadata = event["data"], event["context"]
            context = BackgroundContext(**metadata)
        except (KeyError, TypeError) as exc:
            message = f"Not a background event: {exc!r}"
            self.send(frames.BAD_PAYLOAD, {"message": message, "seq": self.seq})
            return
        try:
            self.call(data, context)
        except Exception as exc:
            error = _report_error(exc, request_id)
        self.finish(started, b"null", error)

    def invoke_web(
        self, style: str, request_id: str, payload: bytes, wire: apigw.Wire | None
    ) -> None:
        """A Cloud Functions or Knative style invocation: an HTTP request in, a response out.
        The request comes from a route (``wire``) or, through the Invoke API, as an envelope,
        and the response goes back the same way.

        A malformed CloudEvent is answered 400 and an HTTP exception with its own status; an
        exception from the function is a function error, as in the Lambda style, which the
        platform answers with 500: so it can tell "raised" from "answered 500".
        """
        started = time.perf_counter()
        if wire is not None:
            envelope = http_trigger.envelope_request(wire)
        else:
            try:
                envelope = http_envelope.decode_request(payload)
            except http_envelope.EnvelopeError as exc:
                event = http_envelope.event_request(payload) if style == "cloudevent" else None
                if event is None:
                    message = f"Not an HTTP request envelope: {exc}"
                    self.send(frames.BAD_PAYLOAD, {"message": message, "seq": self.seq})
                    return
                envelope = event
        error: dict[str, Any] | None = None
        argument: Any = None
        answer: http_envelope.Answer | None = None
        if style == "cloudevent":
            try:
                argument = web.from_request(envelope)
            except web.NotACloudEvent as exc:
                output.log(f"[ERROR] Bad CloudEvent: {exc}")
                answer = web.response_answer(
                    web.BadRequest(f"Bad CloudEvent: {exc}").get_response()
                )
        elif self.flask is None:
            argument = web.request(envelope)
        if answer is None:
            try:
                if self.flask is not None and style == "http":
                    answer = self.flask.answer(envelope, self.call)
                else:
                    result = self.call(argument)
                    answer = (
                        web.cloud_event_accepted()
                        if style == "cloudevent"
                        else web.http_response(result)
                    )
            except Exception as exc:
                answer = web.exception_response(exc)
                if answer is None:
                    error = _report_error(exc, request_id)
            finally:
                if isinstance(argument, web.Request):
                    argument.close()  # its uploaded files are temporary files
        if error is not None:
            self.finish(started, b"", error)
        elif wire is not None:
            assert answer is not None
            try:
                self.finish(started, b"", None, http_trigger.framed(answer))
            except apigw.MalformedResponse as exc:
                self.finish(started, b"", None, str(exc))
        else:
            assert answer is not None
            self.finish(started, http_envelope.encode_response(*answer), None)

    def call(self, *args: Any) -> Any:
        """The handler's result, running it on the instance's loop if it is a coroutine."""
        assert self.handler is not None
        try:
            result = self.handler(*args)
            if inspect.isawaitable(result):
                result = self._run_async(result)
        except MemoryError:
            self.send(frames.RESULT, {"oom": True, "rss": max_rss_kb(), "seq": self.seq})
            os._exit(137)
        return result

    def finish(
        self,
        started: float,
        body: bytes,
        error: dict[str, Any] | None,
        answer: wire_http.HttpResponse | str | None = None,
    ) -> None:
        """RESULT: ``body``, or the Lambda error document for ``error``; for a request from an
        HTTP route, the ``answer`` instead: the response, or why API Gateway would refuse the
        result (a string)."""
        duration_ms = (time.perf_counter() - started) * 1000
        result_meta: dict[str, Any] = {
            "seq": self.seq,
            "duration_ms": duration_ms,
            "rss": self.peak_rss_kb(),
        }
        if error is not None:
            result_meta["error"] = True
            body = json.dumps(error).encode()
        elif isinstance(answer, wire_http.HttpResponse):
            result_meta["status"], result_meta["headers"], body = answer
        elif answer is not None:
            result_meta["malformed"] = answer
        if output.Output.written:
            output.Output.written = False
            output.write(self.marker)  # before RESULT: the platform finds it when RESULT arrives
            result_meta["out"] = True
        self.send(frames.RESULT, result_meta, body)

    def _run_async(self, awaitable: Any) -> Any:
        # One loop for the instance's life, so connections an async handler keeps in globals
        # stay usable across warm invocations, as they do in a long-lived Lambda runtime.
        if self.loop is None:
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
        return self.loop.run_until_complete(awaitable)


def _report_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """Lambda's error payload for an exception from the handler, printed to the log too."""
    error = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": user_stack(exc.__traceback__),
    }
    output.log_error(error)
    return error


def run(
    read_fd: int,
    write_fd: int,
    out_fd: int,
    *,
    prepared: Callable[[], None] = lambda: None,
    snapshot: Snapshot | None = None,
) -> None:
    """Entry point of a spare in the forked child: prepare, wait for a SPEC, serve. Never
    returns; ``prepared`` runs once the spare is ready for its SPEC; with a ``snapshot`` (its
    template's, skylet.worker.snapstart) it restores instead of running an init. The control
    channel is two pipes (``read_fd`` from the platform, ``write_fd`` to it) rather than one
    socket: consuming from a Unix socket wakes the peer's waiters, which costs a cross-CPU
    wake-up per message on a virtual machine; a pipe does not."""
    code = 0
    try:
        prepare_process(out_fd)
        prepared()
        rfile = os.fdopen(read_fd, "rb", buffering=1 << 16)
        raw = rfile.read(frames.HEADER.size)
        if len(raw) < frames.HEADER.size:
            return  # the platform never needed this spare
        kind, meta_len, body_len = frames.HEADER.unpack(raw)
        spec = frames.decode_meta(rfile.read(meta_len))
        rfile.read(body_len)
        if kind != frames.SPEC:
            raise RuntimeError(f"expected a SPEC frame, got kind {kind}")
        arrived = time.perf_counter()
        setup_process(spec)
        if spec.get("bootstrap"):  # a custom runtime: this process becomes its bootstrap
            from skylet.worker import runtime_api  # imported by the zygote already

            runtime_api.start(spec, rfile, write_fd, arrived)
        instance = Instance(spec, rfile, write_fd)
        if snapshot is not None:
            snapshot.restore(instance, arrived)
        else:
            instance.init()
        instance.serve()
    except SystemExit as exc:
        # A handler that calls sys.exit() ends the runtime, as on Lambda.
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:
        code = 1
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
