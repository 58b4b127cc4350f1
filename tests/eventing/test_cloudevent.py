"""The broker's CloudEvents codec against the official SDK's encodings."""

from __future__ import annotations

import base64

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent, from_http

from skylet.eventing import cloudevent
from skylet.eventing.cloudevent import InvalidEvent


def _lower(headers: dict[str, str]) -> list[tuple[str, str]]:
    return [(k.lower(), v) for k, v in headers.items()]


def test_binary_mode_from_the_sdk_keeps_attributes_extensions_and_json_data() -> None:
    sent = CloudEvent({"type": "t", "source": "/s", "region": "eu west"}, {"a": [1, 2]})
    headers, body = to_binary(sent)
    event = cloudevent.from_http(_lower(headers), body)
    assert event["id"] == sent["id"]
    assert event["region"] == "eu west"  # percent-decoded
    assert event["data"] == {"a": [1, 2]}


def test_structured_mode_from_the_sdk_is_kept_as_it_is() -> None:
    sent = CloudEvent({"type": "t", "source": "/s", "subject": "x"}, {"k": "v"})
    headers, body = to_structured(sent)
    event = cloudevent.from_http(_lower(headers), body)
    assert event["subject"] == "x" and event["data"] == {"k": "v"}


def test_binary_data_that_is_not_text_or_json_is_kept_as_base64() -> None:
    headers = [
        ("ce-specversion", "1.0"),
        ("ce-id", "1"),
        ("ce-source", "/s"),
        ("ce-type", "t"),
        ("content-type", "application/octet-stream"),
    ]
    event = cloudevent.from_http(headers, b"\x00\xff")
    assert event["data_base64"] == base64.b64encode(b"\x00\xff").decode()
    assert cloudevent.data_bytes(event) == b"\x00\xff"


def test_the_binary_form_is_what_the_sdk_reads_back() -> None:
    event = {
        "specversion": "1.0",
        "id": "1",
        "source": "/s",
        "type": "t",
        "note": 'a "b" %',
        "datacontenttype": "application/json",
        "data": {"x": 1},
    }
    headers, body = cloudevent.to_binary(event)
    read = from_http(dict(headers), body)
    assert read["note"] == 'a "b" %'
    assert read.data == {"x": 1}


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ([("ce-specversion", "1.0"), ("ce-source", "/s"), ("ce-type", "t")], b"", "id"),
        (
            [("ce-specversion", "1.1"), ("ce-id", "1"), ("ce-source", "/s"), ("ce-type", "t")],
            b"",
            "specversion",
        ),
        (
            [("ce-specversion", "1.0"), ("ce-id", ""), ("ce-source", "/s"), ("ce-type", "t")],
            b"",
            "non-empty",
        ),
        ([("content-type", "application/cloudevents-batch+json")], b"[]", "batched"),
        ([("content-type", "application/cloudevents+json")], b"[1]", "not a JSON object"),
        (
            [
                ("ce-specversion", "1.0"),
                ("ce-id", "1"),
                ("ce-source", "/s"),
                ("ce-type", "t"),
                ("ce-Bad_Name", "x"),
            ],
            b"",
            "attribute name",
        ),
        (
            [
                ("ce-specversion", "1.0"),
                ("ce-id", "1"),
                ("ce-source", "/s"),
                ("ce-type", "t"),
                ("content-type", "application/json"),
            ],
            b"{oops",
            "not JSON",
        ),
    ],
    ids=[
        "missing id",
        "another specversion",
        "an empty id",
        "batched mode",
        "a structured event that is no object",
        "a bad attribute name",
        "data declared JSON that is not",
    ],
)
def test_invalid_events_say_why(headers: list[tuple[str, str]], body: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        cloudevent.from_http([(k.lower(), v) for k, v in headers], body)


def test_a_reply_is_a_200_carrying_an_event_and_never_a_202() -> None:
    headers = [("ce-specversion", "1.0"), ("ce-id", "r"), ("ce-source", "/s"), ("ce-type", "t")]
    assert cloudevent.from_response(200, headers, b"")["id"] == "r"
    assert cloudevent.from_response(202, headers, b"") is None
    assert cloudevent.from_response(200, [("content-type", "text/plain")], b"hi") is None
