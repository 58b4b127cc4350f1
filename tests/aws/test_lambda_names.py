"""Function names, qualifiers and alias names as Lambda reads and checks them; the patterns
are botocore's."""

from __future__ import annotations

import botocore.session
import pytest

from skylet.aws import lambda_names
from skylet.aws.lambda_names import FunctionRef, parse_function_name
from skylet.config import RuntimeSettings
from skylet.errors import AccessDenied, InvalidParameterValue, ResourceNotFound, ValidationError

SETTINGS = RuntimeSettings(region="us-east-1", account_id="123456789012")
MODEL = botocore.session.get_session().get_service_model("lambda")


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
        "a name",
        "a name and a qualifier",
        "a partial ARN",
        "a qualified partial ARN",
        "an ARN",
        "a qualified ARN",
    ],
)
def test_every_form_of_function_name_names_the_function(
    raw: str, expected: tuple[str, str | None]
) -> None:
    assert parse_function_name(raw, SETTINGS) == FunctionRef(*expected)


def test_an_arn_of_another_service_breaks_the_pattern() -> None:
    with pytest.raises(ValidationError, match="at 'functionName' failed to satisfy constraint"):
        parse_function_name("arn:aws:s3:::bucket", SETTINGS)


def test_an_arn_of_another_region_is_not_reachable_from_this_one() -> None:
    with pytest.raises(ResourceNotFound) as caught:
        parse_function_name("arn:aws:lambda:eu-west-1:123456789012:function:hello", SETTINGS)
    assert caught.value.message == (
        "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"
    )


@pytest.mark.parametrize(
    "raw",
    ["arn:aws:lambda:us-east-1:999999999999:function:hello", "999999999999:function:hello:1"],
    ids=["a full ARN", "a partial ARN"],
)
def test_a_function_of_another_account_is_access_denied(raw: str) -> None:
    with pytest.raises(AccessDenied) as caught:
        parse_function_name(raw, SETTINGS, action="lambda:GetFunction")
    assert caught.value.message == (
        "User: arn:aws:iam::123456789012:root is not authorized to perform: lambda:GetFunction "
        "on resource: arn:aws:lambda:us-east-1:999999999999:function:hello because no "
        "resource-based policy allows the lambda:GetFunction action"
    )


def test_a_qualifier_in_the_name_must_agree_with_the_parameter() -> None:
    assert parse_function_name("hello:live", SETTINGS, qualifier="live").qualifier == "live"
    with pytest.raises(InvalidParameterValue, match="derived qualifier"):
        parse_function_name("hello:live", SETTINGS, qualifier="1")


@pytest.mark.parametrize(
    ("check", "value", "field"),
    [
        (lambda_names.check_qualifier, "bad/qualifier", "qualifier"),
        (lambda_names.check_qualifier, "q" * 129, "qualifier"),
        (lambda_names.check_alias_name, "123", "name"),
        (lambda_names.check_alias_name, "no.dots", "name"),
        (lambda_names.check_version, "live", "functionVersion"),
    ],
    ids=[
        "a qualifier with a slash",
        "a qualifier over 128 characters",
        "an alias name of digits only",
        "an alias name with a dot",
        "a version that is not a number",
    ],
)
def test_values_that_break_the_model_are_validation_errors(
    check: object, value: str, field: str
) -> None:
    assert callable(check)
    with pytest.raises(ValidationError) as caught:
        check(value)
    assert caught.value.message.startswith(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint"
    )


def _metadata(operation: str, member: str) -> dict[str, object]:
    return dict(MODEL.operation_model(operation).input_shape.members[member].metadata)


def test_the_patterns_are_botocores() -> None:
    assert _metadata("Invoke", "FunctionName")["pattern"] == lambda_names.FUNCTION_NAME_PATTERN
    assert _metadata("GetFunction", "Qualifier")["pattern"] == lambda_names.QUALIFIER_PATTERN
    assert _metadata("CreateAlias", "Name")["pattern"] == lambda_names.ALIAS_NAME_PATTERN
    assert _metadata("CreateAlias", "FunctionVersion")["pattern"] == lambda_names.VERSION_PATTERN
    assert _metadata("Invoke", "LogType")["enum"] == ["None", "Tail"]


def test_the_lambda_paths_are_the_prefixes_of_every_operation_in_the_model() -> None:
    prefixes = set()
    for name in MODEL.operation_names:
        uri = MODEL.operation_model(name).http["requestUri"].split("?")[0]
        prefixes.add("/".join(uri.split("/")[:3]))
    assert prefixes == set(lambda_names.PATH_PREFIXES)
    assert lambda_names.is_lambda_path("/2015-03-31/functions/")
    assert not lambda_names.is_lambda_path("/2015-03-31/other")
