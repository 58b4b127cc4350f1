"""Rehearsals: what an invocation runs that does not depend on a function, run ahead of
demand so that its first-run costs (caches filled, lazy imports, copy-on-write faults) are not
paid on a cold start's path. In full once in each template, where what it touches stays shared
by every instance; in each spare for its own function's style only (skylet.worker.template)."""

from __future__ import annotations

import decimal
import importlib
import json
import os
import sys
import time
from pathlib import Path

from skylet import fastjson
from skylet.wire import frames
from skylet.wire import http as wire_http
from skylet.worker import apigw, http_envelope, http_trigger, instance, web
from skylet.worker.context import LambdaContext
from skylet.worker.web import flask_bridge

_REHEARSAL_DIR = str(Path(__file__).parent / "rehearsal")


def rehearse(*, web: bool = True) -> None:
    """Run what an invocation runs that does not depend on a function: once in full in the
    template (caches fill, lazy imports happen: shared by every instance), and in each spare
    for its own function's style only (``web``: Cloud Functions and Knative styles), which
    takes the copy-on-write faults its first invocation would take on the cold start's path.
    The full rehearsal in every spare had cost ~2.4 MB of unique memory per instance."""
    sample = {"key": [1, 2.5, "three", None, True], "nested": {"a": decimal.Decimal("1.5")}}
    raw = json.dumps(sample, default=instance.json_default).encode()
    json.loads(raw)
    frames.encode(frames.RESULT, {"duration_ms": 0.1, "rss": instance.max_rss_kb()}, raw)
    LambdaContext(
        aws_request_id="",
        deadline_ms=0,
        invoked_function_arn="",
        function_name="",
        function_version="",
        memory_limit_in_mb="",
        log_group_name="",
        log_stream_name="",
    ).get_remaining_time_in_millis()
    _rehearse_apigw()
    if web:
        _rehearse_web()
    # The same steps as setup_process and a handler import, undone afterwards.
    os.environ["SKYLET_REHEARSAL"] = "1"
    del os.environ["SKYLET_REHEARSAL"]
    time.tzset()
    sys.path.insert(0, _REHEARSAL_DIR)
    try:
        importlib.import_module("skylet_rehearsal_handler").handler({}, None)
    finally:
        sys.path.remove(_REHEARSAL_DIR)
        sys.modules.pop("skylet_rehearsal_handler", None)
        sys.path_importer_cache.pop(_REHEARSAL_DIR, None)


def _rehearse_web() -> None:
    """HTTP requests (JSON, a multipart form), their responses, an HTTP error and a CloudEvent:
    their first-touch costs, taken here."""
    payload = http_envelope.encode_request(
        method="POST",
        path="/",
        raw_path="/",
        query="a=1",
        headers=[
            ("content-type", "application/json"),
            ("cookie", "c=1"),
            ("ce-specversion", "1.0"),
            ("ce-id", "1"),
            ("ce-source", "/"),
            ("ce-type", "t"),
        ],
        remote_addr="",
        scheme="http",
        host="localhost",
        body=b'{"a": [1]}',
    )
    envelope = http_envelope.decode_request(payload)
    request = web.request(envelope)
    _ = request.args.get("a"), request.headers.get("content-type"), request.get_json()
    _ = request.cookies, request.url, request.user_agent
    request.close()  # as every invocation closes its request (the first close costs ~40 µs)
    form = envelope._replace(
        headers=(("content-type", "multipart/form-data; boundary=b"),),
        body=b'--b\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\nx\r\n--b--\r\n',
    )
    with web.request(form) as uploaded:
        uploaded.files["f"].read()
    web.http_response(({"ok": True}, 200, {"X-A": "1"}))
    http_envelope.decode_response(http_envelope.encode_response(*web.http_response("text")))
    web.exception_response(web.BadRequest())
    web.from_request(envelope)
    web.cloud_event_accepted()


def rehearse_flask(handler: str) -> None:
    """In the template of an HTTP function whose Flask its template preloaded: the bridge its
    instances take, made and rehearsed with one GET (skylet.worker.web.flask_bridge)."""
    payload = http_envelope.encode_request(
        method="GET",
        path="/",
        raw_path="/",
        query="",
        headers=[("host", "localhost")],
        remote_addr="",
        scheme="http",
        host="localhost",
        body=b"",
    )
    flask_bridge.prepare(handler.rsplit(".", 1)[0], http_envelope.decode_request(payload))


def _rehearse_apigw() -> None:
    """A routed request's API Gateway event (both payload formats) and its answer."""
    for kind in ("http_api", "rest"):
        # Built from the type, so that a field added to it cannot leave this list behind.
        trigger = wire_http.Trigger(kind, "GET /a", "/a", {}, "", "", "", "", "", None, "")
        values = wire_http.Request(
            "GET", "/a", "/a", "b=1", [("host", "x")], "", None, 0.0, "1.1", ""
        )
        sent = wire_http.encode(values, trigger)
        wire = apigw.from_wire(fastjson.loads(fastjson.dumps(sent)), b"")
        http_trigger.envelope_request(wire)
        http_trigger.lambda_event(wire)
        http_trigger.lambda_answer(wire, {"statusCode": 200, "body": "x"}, instance.to_json)
