"""Reading a CloudEvent from an HTTP request (pure)."""

from __future__ import annotations

import json

import pytest

from skylet.worker.http_envelope import EnvelopeRequest
from skylet.worker.web import NotACloudEvent, from_request

ATTRIBUTES = {"specversion": "1.0", "id": "i", "source": "/s", "type": "t"}


def request(headers: list[tuple[str, str]], body: bytes = b"") -> EnvelopeRequest:
    return EnvelopeRequest("POST", "/", "/", "", tuple(headers), "", "http", "h", body)


def binary(*extra: tuple[str, str], body: bytes = b"") -> EnvelopeRequest:
    headers = [(f"ce-{k}", v) for k, v in ATTRIBUTES.items()]
    return request([*headers, *extra], body)


def test_binary_mode_takes_the_first_of_repeated_headers_and_keeps_extensions() -> None:
    event = from_request(binary(("ce-id", "second"), ("ce-traceparent", "00-ab"), ("x-other", "1")))
    assert (event["id"], event["traceparent"]) == ("i", "00-ab")
    assert "other" not in event and "x-other" not in event


def test_binary_mode_undeclared_data_is_json_when_it_parses_else_bytes() -> None:
    assert from_request(binary(body=b'{"a": 1}')).data == {"a": 1}
    assert from_request(binary(body=b"\xffnot json")).data == b"\xffnot json"
    assert from_request(binary(("content-type", "text/csv"), body=b"\xff")).data == b"\xff"
    xml = from_request(binary(("content-type", "application/atom+xml"), body=b"<a/>"))
    assert (xml.data, xml["datacontenttype"]) == ("<a/>", "application/atom+xml")


def test_a_json_object_body_is_read_as_a_structured_event_as_the_sdk_reads_it() -> None:
    body = json.dumps({**ATTRIBUTES, "data": [1], "ext": "e"}).encode()
    event = from_request(request([("content-type", "application/json")], body))
    assert (event.data, event["ext"], event["id"]) == ([1], "e", "i")


def test_a_structured_event_without_data_has_none() -> None:
    body = json.dumps(ATTRIBUTES).encode()
    event = from_request(request([("content-type", "application/cloudevents+json")], body))
    assert event.data is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "the structured CloudEvent is not a JSON object"),
        (json.dumps({**ATTRIBUTES, "data_base64": 5}).encode(), "data_base64 is not a string"),
        (json.dumps({**ATTRIBUTES, "specversion": 1.0}).encode(), "specversion"),
    ],
    ids=["array", "data_base64_not_a_string", "specversion_a_number"],
)
def test_structured_mode_rejects(body: bytes, message: str) -> None:
    with pytest.raises(NotACloudEvent, match=message):
        from_request(request([("content-type", "application/cloudevents+json")], body))
