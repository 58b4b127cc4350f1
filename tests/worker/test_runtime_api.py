"""The pure parts of the Runtime API's relay: error types and documents as the emulator
keeps them."""

from __future__ import annotations

import pytest

from skylet.worker.runtime_api import error_document, valid_error_type


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("Runtime.ExitError", "Runtime.ExitError"),
        ("Function.MyError", "Function.MyError"),
        ("Unhandled", "Runtime.Unknown"),
        ("", "Runtime.Unknown"),
        ("Function.x", "Function.Unknown"),
        ("Runtime.lower", "Runtime.Unknown"),
        ("prefix Runtime.Found", "prefix Runtime.Found"),  # the emulator searches, unanchored
    ],
    ids=[
        "a runtime error",
        "a function error",
        "another word",
        "none",
        "function, lower case",
        "runtime, lower case",
        "anywhere in the value",
    ],
)
def test_error_types_are_kept_only_in_lambdas_form(header: str, kept: str) -> None:
    assert valid_error_type(header) == kept


def test_a_json_error_document_is_kept_as_the_runtime_sent_it() -> None:
    body = b'{"errorMessage": "m", "errorType": "E", "trace": ["a"]}'
    assert error_document(body, "Runtime.Unknown") == {
        "errorMessage": "m",
        "errorType": "E",
        "trace": ["a"],
    }


@pytest.mark.parametrize("body", [b"", b"plain text", b"[1, 2]"], ids=["empty", "text", "a list"])
def test_anything_else_becomes_a_document_from_the_header(body: bytes) -> None:
    assert error_document(body, "Function.Bad") == {
        "errorMessage": body.decode(),
        "errorType": "Function.Bad",
    }
