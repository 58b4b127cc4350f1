"""Which requests are the Lambda API's, and the names they carry: function names in every form
Lambda accepts, qualifiers, alias names; checked as Lambda checks them. Pure.

Names are checked against the patterns of botocore's ``lambda`` service model (the constants
below are copied from it, and tests/aws/test_lambda_names.py fails if the model changes).
A full ARN of another region is not found (Lambda: "Functions from 'R' are not reachable in
this region"); one of another account is refused as Lambda refuses a caller that no resource
policy lets in (``AccessDeniedException``): skylet has one account.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from skylet import arns
from skylet.config import RuntimeSettings
from skylet.errors import AccessDenied, InvalidParameterValue, ResourceNotFound, ValidationError

#: The path prefixes of the Lambda API's operations in botocore's model (its API versions).
PATH_PREFIXES = (
    "/2014-11-13/functions",
    "/2015-03-31/event-source-mappings",
    "/2015-03-31/functions",
    "/2016-08-19/account-settings",
    "/2017-03-31/tags",
    "/2017-10-31/functions",
    "/2018-10-31/layers",
    "/2019-09-25/functions",
    "/2019-09-30/functions",
    "/2020-04-22/code-signing-configs",
    "/2020-06-30/functions",
    "/2021-07-20/functions",
    "/2021-10-31/functions",
    "/2021-11-15/functions",
    "/2024-08-31/functions",
    "/2025-11-30/capacity-providers",
    "/2025-11-30/functions",
    "/2025-12-01/durable-execution-callbacks",
    "/2025-12-01/durable-executions",
    "/2025-12-01/functions",
    "/2026-07-09/resource-policy",
)

FUNCTION_NAME_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?"
    r"(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST(\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ALIAS_NAME_PATTERN = r"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
VERSION_PATTERN = r"(\$LATEST(\.PUBLISHED)?|[0-9]+)"
MAX_FUNCTION_NAME = 256
MAX_QUALIFIER = 128

_FUNCTION_NAME = re.compile(FUNCTION_NAME_PATTERN)
_QUALIFIER = re.compile(QUALIFIER_PATTERN)
_ALIAS_NAME = re.compile(ALIAS_NAME_PATTERN)
_VERSION = re.compile(VERSION_PATTERN)


def is_lambda_path(path: str) -> bool:
    """Whether a request path is one of the Lambda API's (the gateway's first decision)."""
    return path.startswith(PATH_PREFIXES)


class FunctionRef(NamedTuple):
    """A function a request names: its name and the qualifier (version or alias), if any."""

    name: str
    qualifier: str | None


def constraint_error(field: str, value: str, constraint: str) -> ValidationError:
    """Lambda's message for a parameter that breaks its model."""
    return ValidationError(
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _pattern_error(field: str, value: str, pattern: str) -> ValidationError:
    return constraint_error(
        field, value, f"Member must satisfy regular expression pattern: {pattern}"
    )


def _check(field: str, value: str, max_length: int, pattern: re.Pattern[str]) -> str:
    """``value`` within the model's length limit and pattern, or Lambda's validation error."""
    if len(value) > max_length:
        raise constraint_error(
            field, value, f"Member must have length less than or equal to {max_length}"
        )
    if not pattern.fullmatch(value):
        raise _pattern_error(field, value, pattern.pattern)
    return value


def check_enum(field: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise constraint_error(
            field, value, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )
    return value


def parse_function_name(
    raw: str,
    settings: RuntimeSettings,
    *,
    qualifier: str | None = None,
    region: str | None = None,
    action: str = "lambda:InvokeFunction",
) -> FunctionRef:
    """The function ``raw`` names: ``name``, ``name:qualifier``, ``ACCOUNT:function:name[:q]``
    or ``arn:aws:lambda:REGION:ACCOUNT:function:name[:q]``; ``qualifier`` is the request's
    ``Qualifier`` parameter, which must agree with one in the name. ``action`` names the
    permission an ARN of another account would need; ``region`` is the one the API answers
    for (the functions', else ``settings.region``)."""
    here = region or settings.region
    _check("functionName", raw, MAX_FUNCTION_NAME, _FUNCTION_NAME)
    parts = raw.split(":")
    account: str | None = None
    if parts[0] == "arn":
        if len(parts) not in (7, 8) or parts[5] != "function":
            raise _pattern_error("functionName", raw, FUNCTION_NAME_PATTERN)
        theirs, account = parts[3], parts[4]
        if theirs != here:
            raise ResourceNotFound(
                f"Functions from '{theirs}' are not reachable in this region ('{here}')"
            )
        parts = parts[6:]
    elif len(parts) >= 3 and parts[1] == "function":
        account = parts[0]
        parts = parts[2:]
    elif parts[0] == "function":
        parts = parts[1:]
    name = parts[0]
    in_name = parts[1] if len(parts) > 1 else None
    if account is not None and account != settings.account_id:
        arn = arns.function_arn(name, region=here, account=account)
        raise AccessDenied(
            f"User: {arns.root_arn(settings.account_id)} is not authorized to perform: "
            f"{action} on resource: {arn} because no resource-based policy allows the "
            f"{action} action"
        )
    if qualifier is not None:
        check_qualifier(qualifier)
        if in_name is not None and in_name != qualifier:
            raise InvalidParameterValue(
                "The derived qualifier from the function name does not match the specified "
                "qualifier."
            )
    return FunctionRef(name, qualifier if qualifier is not None else in_name)


def check_qualifier(qualifier: str) -> str:
    return _check("qualifier", qualifier, MAX_QUALIFIER, _QUALIFIER)


def check_alias_name(name: str) -> str:
    if not 1 <= len(name) <= MAX_QUALIFIER or not _ALIAS_NAME.fullmatch(name):
        raise _pattern_error("name", name, ALIAS_NAME_PATTERN)
    return name


def check_version(version: str, field: str = "functionVersion") -> str:
    if not _VERSION.fullmatch(version):
        raise _pattern_error(field, version, VERSION_PATTERN)
    return version
