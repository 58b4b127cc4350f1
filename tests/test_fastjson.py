"""fastjson.parse_event: the one reading of an event payload, strict as Lambda's."""

from __future__ import annotations

from typing import Any

import pytest

from skylet import fastjson

DEEP = b"[" * 1500 + b"]" * 1500


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, list):
        depth += 1
        value = value[0] if value else None
    return depth


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"a": [1, 2.5, "x", null, true]}', {"a": [1, 2.5, "x", None, True]}),
        (b"123456789012345678901234567890", 123456789012345678901234567890),
        (b'{"n": -98765432109876543210}', {"n": -98765432109876543210}),
        (b'"\\ud800"', "\ud800"),
        (b' {"a": 1}\n', {"a": 1}),
    ],
    ids=[
        "plain JSON is read as the json module reads it",
        "an integer past 64 bits stays exact",
        "a negative integer past 64 bits stays exact",
        "a lone surrogate is kept, as the json module keeps it",
        "JSON whitespace around the value is allowed",
    ],
)
def test_parse_event_reads_json(payload: bytes, expected: Any) -> None:
    assert fastjson.parse_event(payload) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"a": NaN}', "Non-standard token 'NaN'"),
        (b"[Infinity]", "Non-standard token 'Infinity'"),
        (b'{"big": 12345678901234567890123, "x": -Infinity}', "Non-standard token '-Infinity'"),
        (DEEP, "nesting deeper than 1024 levels"),
        (b"[" * 1025 + b"]" * 1025, "nesting deeper than 1024 levels"),
        (b"{not json", "Expecting property name"),
        (b'"\xff"', "can't decode"),
        (b'{"a": 1} {"b": 2}', "Extra data"),
    ],
    ids=[
        "NaN is refused",
        "Infinity is refused",
        "-Infinity is refused on the slow path too",
        "1500 levels of nesting are refused",
        "1025 levels of nesting are refused",
        "text that is not JSON is refused",
        "bytes that are not UTF-8 are refused",
        "two values are refused",
    ],
)
def test_parse_event_refuses_what_lambda_refuses(payload: bytes, reason: str) -> None:
    with pytest.raises(fastjson.NotJson) as caught:
        fastjson.parse_event(payload)
    message = str(caught.value)
    assert message.startswith(
        "Could not parse request body into json: Could not parse payload into json: "
    )
    assert reason in message


def test_parse_event_reads_1024_levels_of_nesting() -> None:
    assert _depth(fastjson.parse_event(b"[" * 1024 + b"]" * 1024)) == 1024


def test_parse_event_never_raises_recursion_error_on_the_slow_path() -> None:
    # A long number sends the payload to the json module, which nests on the C stack.
    payload = b"[" * 1020 + b"12345678901234567890123" + b"]" * 1020
    try:
        value = fastjson.parse_event(payload)
    except fastjson.NotJson as error:
        assert "nesting deeper" in str(error)
    else:
        assert isinstance(value, list)


def test_without_orjson_the_json_module_reads_and_writes_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on an interpreter orjson was not built for (another Python's zygote).
    monkeypatch.setattr(fastjson, "orjson", None)
    assert fastjson.parse_event(b'{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert fastjson.parse_event(b"123456789012345678901234567890") == 123456789012345678901234567890
    with pytest.raises(fastjson.NotJson, match="Non-standard token 'NaN'"):
        fastjson.parse_event(b'{"a": NaN}')
    with pytest.raises(fastjson.NotJson, match="nesting deeper"):
        fastjson.parse_event(DEEP)
    assert fastjson.dumps({"a": [1, "\ud800"]}) == b'{"a":[1,"\\ud800"]}'
    assert fastjson.loads(b'{"b": 2}') == {"b": 2}
