"""CloudWatch Logs' filter patterns, with the examples of AWS's "Filter pattern syntax" page."""

from __future__ import annotations

import json
import re

import pytest

from skylet.observe.filter_pattern import InvalidFilterPattern, compile_pattern

EVENTS = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[WARN 422] PROCESSING ARGUMENTS",
    "[SUCCESS 200] AUTHORIZED REQUEST",
]


@pytest.mark.parametrize(
    ("pattern", "matched"),
    [
        pytest.param("ERROR", [0, 1, 2, 3, 4], id="a term matches the events containing it"),
        pytest.param("ERROR ARGUMENTS", [2, 3], id="two terms both must appear"),
        pytest.param("?ERROR ?ARGUMENTS", [0, 1, 2, 3, 4, 5], id="question marks mean either"),
        pytest.param('"INTERNAL SERVER ERROR"', [4], id="a quoted phrase matches as a whole"),
        pytest.param("ERROR -ARGUMENTS", [0, 1, 4], id="a minus excludes the term"),
        pytest.param("%AUTHORIZED%", [1, 6], id="a regular expression between percent signs"),
        pytest.param("%ERROR 4[0-9]{2}%", [0, 1, 2, 3], id="a regular expression with a range"),
        pytest.param("error", [], id="terms are case sensitive"),
        pytest.param("", [0, 1, 2, 3, 4, 5, 6], id="the empty pattern matches everything"),
        pytest.param('""', [0, 1, 2, 3, 4, 5, 6], id="an empty phrase matches everything"),
        pytest.param("-ERROR", [5, 6], id="an exclusion alone keeps the rest"),
    ],
)
def test_terms(pattern: str, matched: list[int]) -> None:
    compiled = compile_pattern(pattern)
    assert [i for i, event in enumerate(EVENTS) if compiled.matches(event)] == matched


DOCUMENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
        "latency": 75,
        "user": {"id": 1, "email": "John.Doe@example.com"},
        "actions": ["PUT", "POST", "GET"],
        "level": "ERROR",
    }
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param('{ $.eventType = "UpdateTrail" }', True, id="a string equals"),
        pytest.param("{ $.eventType = UpdateTrail }", True, id="an unquoted string equals"),
        pytest.param('{ $.eventType = "Update*" }', True, id="a wildcard at the end"),
        pytest.param('{ $.eventType = "*Trail" }', True, id="a wildcard at the start"),
        pytest.param('{ $.eventType = "Update" }', False, id="a string must equal wholly"),
        pytest.param("{ $.sourceIPAddress != 123.123.* }", True, id="not equal with a wildcard"),
        pytest.param("{ $.sourceIPAddress = 111.111.* }", True, id="a wildcard in an address"),
        pytest.param('{ $.arrayKey[0] = "value" }', True, id="an array index"),
        pytest.param("{ $.objectList[1].id = 2 }", True, id="a field of an array element"),
        pytest.param("{ $.objectList[5].id = 2 }", False, id="an index past the end"),
        pytest.param("{ $.SomeObject IS NULL }", True, id="IS NULL"),
        pytest.param("{ $.SomeOtherObject NOT EXISTS }", True, id="NOT EXISTS"),
        pytest.param("{ $.SomeObject NOT EXISTS }", False, id="a null field exists"),
        pytest.param("{ $.ThisFlag IS TRUE }", True, id="IS TRUE"),
        pytest.param("{ $.ThisFlag IS FALSE }", False, id="IS FALSE"),
        pytest.param("{ $.latency > 50 }", True, id="a number greater"),
        pytest.param("{ $.latency <= 50 }", False, id="a number at most"),
        pytest.param("{ $.latency = 75 }", True, id="a number equal"),
        pytest.param("{ $.eventType > 5 }", False, id="a string never compares as a number"),
        pytest.param(
            '{ ($.user.id = 1) && ($.user.email = "John.Doe@example.com") }',
            True,
            id="and with parentheses",
        ),
        pytest.param(
            '{ ($.user.id = 2 && $.user.email = "nonmatch") || $.actions[2] = "GET" }',
            True,
            id="or after a false and",
        ),
        pytest.param('{ $.level = "ERROR" }', True, id="the brief's level"),
        pytest.param('{ $.latency > 5 && $.eventType = "U*" }', True, id="number and glob"),
        pytest.param("{ $.level = %ERR% }", True, id="a regular expression value"),
        pytest.param('{ $.missing != "x" }', False, id="not equal needs the field"),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(DOCUMENT) is expected


def test_a_json_pattern_matches_no_text_event() -> None:
    pattern = compile_pattern('{ $.level = "ERROR" }')
    assert not pattern.matches("[ERROR] level = ERROR")
    assert not pattern.matches('["level"]')
    assert not pattern.matches("{not json")


APACHE = '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534'
REPORT = (
    "REPORT RequestId: f420d819-d07e-11e8-9ef2-4d8f649fd167\tDuration: 158.15 ms\t"
    "Billed Duration: 159 ms\tMemory Size: 128 MB\tMax Memory Used: 38 MB\t"
)


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        pytest.param(
            "[ip, user, username, timestamp, request, status_code, bytes]",
            APACHE,
            True,
            id="seven names for seven fields",
        ),
        pytest.param("[ip, user, username]", APACHE, False, id="too few names without ellipsis"),
        pytest.param("[..., status_code = 404, bytes]", APACHE, False, id="a status that differs"),
        pytest.param("[ip, user, ..., status_code = 2*, bytes]", APACHE, True, id="a glob"),
        pytest.param(
            "[ip, user, username, timestamp, request = *gif*, status_code, bytes > 1000]",
            APACHE,
            True,
            id="a quoted field and a number",
        ),
        pytest.param("[ip = 127.0.0.1, ...]", APACHE, True, id="an address as text"),
        pytest.param(
            "[..., status_code >= 400 && status_code < 500, bytes]",
            APACHE,
            False,
            id="a range joined by and",
        ),
        pytest.param(
            "[..., status_code = 404 || status_code = 200, bytes]",
            APACHE,
            True,
            id="either of two statuses",
        ),
        pytest.param(
            '[report_label="REPORT", ..., label="Used:", max_memory_used_value, unit="MB"]',
            REPORT,
            True,
            id="the REPORT line's memory",
        ),
    ],
)
def test_space_delimited_patterns(pattern: str, event: str, expected: bool) -> None:
    assert compile_pattern(pattern).matches(event) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        pytest.param("{ $.level = }", "expected a value", id="a comparison without a value"),
        pytest.param('{ $.level = "x"', "ends too early", id="no closing brace"),
        pytest.param('{ level = "x" }', "selector", id="a field that is not a selector"),
        pytest.param('{ $.level > "x" }', "compares numbers only", id="greater on a string"),
        pytest.param("{ $.x IS MAYBE }", "is not a test", id="an unknown IS test"),
        pytest.param("[a, b", "expected , or ] after b", id="an open bracket"),
        pytest.param("%[%", "not a regular expression", id="a broken regular expression"),
        pytest.param("%(a+)+%", "parentheses are not supported", id="a group in a regex"),
        pytest.param("%café%", "has a character", id="a multi-byte character in a regex"),
        pytest.param("%a% %b% %c%", "3 regular expressions", id="more than two regexes"),
    ],
)
def test_a_malformed_pattern_is_refused_naming_the_fault(pattern: str, message: str) -> None:
    with pytest.raises(InvalidFilterPattern, match=re.escape(message)):
        compile_pattern(pattern)
