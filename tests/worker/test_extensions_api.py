"""The Extensions API's bookkeeping in a relay, without processes: registration and its
refusals, when the init may end, when the next invocation may start."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.worker.extensions_api import Extensions

SPEC = {"function_name": "fn", "function_version": "$LATEST", "handler": "app.handler"}


class Recorder:
    def __init__(self) -> None:
        self.answers: list[tuple[Any, int, Any, dict[str, str] | None]] = []

    def __call__(self, conn: Any, status: int, body: bytes, headers: dict[str, str] | None) -> None:
        document = json.loads(body) if body.startswith(b"{") else body
        self.answers.append((conn, status, document, headers))


def _registered(extensions: Extensions, answers: Recorder, name: str, events: list[str]) -> str:
    body = json.dumps({"events": events}).encode()
    extensions.handle("c", "POST", "register", {"lambda-extension-name": name}, body)
    _, status, document, headers = answers.answers[-1]
    assert status == 200 and document == {
        "functionName": "fn",
        "functionVersion": "$LATEST",
        "handler": "app.handler",
    }
    assert headers is not None
    return headers["Lambda-Extension-Identifier"]


@pytest.mark.parametrize(
    ("headers", "body", "error_type"),
    [
        ({}, b"{}", "Extension.InvalidExtensionName"),
        ({"lambda-extension-name": "x"}, b"{nope", "InvalidRequestFormat"),
        (
            {"lambda-extension-name": "x"},
            b'{"events": ["INVOKE", "BOOT"]}',
            "Extension.InvalidEventType",
        ),
    ],
    ids=["without a name", "a body that is not JSON", "an event that does not exist"],
)
def test_a_registration_is_refused(headers: dict[str, str], body: bytes, error_type: str) -> None:
    answers = Recorder()
    Extensions(SPEC, answers).handle("c", "POST", "register", headers, body)
    assert answers.answers[-1][1] == 403 and answers.answers[-1][2]["errorType"] == error_type


def test_the_init_waits_for_every_started_extension_to_ask_for_its_first_event() -> None:
    answers = Recorder()
    extensions = Extensions(SPEC, answers)
    extensions.started = ["cache"]
    assert not extensions.ready()
    ident = _registered(extensions, answers, "cache", ["INVOKE"])
    assert not extensions.ready()  # registered, but not asking yet
    assert extensions.handle("n", "GET", "event/next", {"lambda-extension-identifier": ident}, b"")
    assert extensions.ready()


def test_registration_closes_with_the_init() -> None:
    answers = Recorder()
    extensions = Extensions(SPEC, answers)
    extensions.closed = True
    extensions.handle("c", "POST", "register", {"lambda-extension-name": "late"}, b"{}")
    assert answers.answers[-1][2]["errorType"] == "Extension.RegistrationClosed"


def test_an_invoke_goes_to_its_subscribers_and_the_next_waits_until_they_ask_again() -> None:
    answers = Recorder()
    extensions = Extensions(SPEC, answers)
    invoked = _registered(extensions, answers, "a", ["INVOKE"])
    shutdown_only = _registered(extensions, answers, "b", ["SHUTDOWN"])
    for ident in (invoked, shutdown_only):
        extensions.handle(ident, "GET", "event/next", {"lambda-extension-identifier": ident}, b"")
    assert extensions.idle()
    meta = {"request_id": "r1", "arn": "arn:aws:lambda:us-east-1:000000000000:function:fn"}
    extensions.invoke(meta, 1234, "Root=1-x")
    conn, status, event, headers = answers.answers[-1]
    assert conn == invoked and status == 200 and headers is not None
    assert event == {
        "eventType": "INVOKE",
        "deadlineMs": 1234,
        "requestId": "r1",
        "invokedFunctionArn": meta["arn"],
        "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-x"},
    }
    assert not extensions.idle()  # "a" is busy with r1; "b" does not count
    extensions.handle("again", "GET", "event/next", {"lambda-extension-identifier": invoked}, b"")
    assert extensions.idle()


@pytest.mark.parametrize(
    ("headers", "error_type"),
    [
        ({}, "Extension.MissingExtensionIdentifier"),
        ({"lambda-extension-identifier": "who"}, "Extension.UnknownExtensionIdentifier"),
    ],
    ids=["without an identifier", "with one nobody registered"],
)
def test_event_next_needs_a_known_identifier(headers: dict[str, str], error_type: str) -> None:
    answers = Recorder()
    assert not Extensions(SPEC, answers).handle("c", "GET", "event/next", headers, b"")
    assert answers.answers[-1][1] == 403 and answers.answers[-1][2]["errorType"] == error_type


def test_shutdown_goes_to_its_subscribers_and_is_over_when_they_ask_again() -> None:
    answers = Recorder()
    extensions = Extensions(SPEC, answers)
    assert not extensions.subscribed("SHUTDOWN")
    ident = _registered(extensions, answers, "s", ["SHUTDOWN"])
    extensions.handle("first", "GET", "event/next", {"lambda-extension-identifier": ident}, b"")
    assert extensions.subscribed("SHUTDOWN") and extensions.shut_down()
    extensions.shutdown(99)
    conn, status, event, _ = answers.answers[-1]
    assert (conn, status) == ("first", 200)
    assert event == {"eventType": "SHUTDOWN", "deadlineMs": 99, "shutdownReason": "spindown"}
    assert not extensions.shut_down()
    extensions.handle("again", "GET", "event/next", {"lambda-extension-identifier": ident}, b"")
    assert extensions.shut_down()
