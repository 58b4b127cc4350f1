"""Every form of FunctionName that Lambda's Invoke API accepts."""

from __future__ import annotations

import pytest

from skylet.aws.lambda_api import parse_function_name
from skylet.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("hello", ("hello", None)),
        ("hello:$LATEST", ("hello", "$LATEST")),
        ("123456789012:function:hello", ("hello", None)),
        ("123456789012:function:hello:prod", ("hello", "prod")),
        ("arn:aws:lambda:us-east-1:123456789012:function:hello", ("hello", None)),
        ("arn:aws:lambda:us-east-1:123456789012:function:hello:7", ("hello", "7")),
    ],
    ids=[
        "name",
        "name_and_qualifier",
        "partial_arn",
        "partial_arn_qualified",
        "arn",
        "arn_qualified",
    ],
)
def test_function_name_forms(raw: str, expected: tuple[str, str | None]) -> None:
    assert parse_function_name(raw) == expected


def test_an_arn_of_another_service_is_refused() -> None:
    with pytest.raises(InvalidParameterValue):
        parse_function_name("arn:aws:s3:::bucket")
