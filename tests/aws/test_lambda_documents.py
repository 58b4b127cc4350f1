"""The control plane's documents and routes, held against botocore's ``lambda`` model: every
key a document has is a member of its shape, every route is the model's."""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

import botocore.session
import pytest

from skylet.aws import lambda_documents as documents
from skylet.aws.lambda_routes import ROUTES, Match, match
from skylet.build.snapshots import CodeDigest
from skylet.config import AsyncConfig, Destination, FunctionConfig, RuntimeSettings
from skylet.errors import InvalidParameterValue
from skylet.invoker.invoker import PUBLISHED_STATUS
from skylet.invoker.versions import Alias

MODEL = botocore.session.get_session().get_service_model("lambda")
SETTINGS = RuntimeSettings()
FN = FunctionConfig(
    "echo",
    "handlers.echo",
    Path("/srv/code"),
    environment=MappingProxyType({"A": "1"}),
    async_config=AsyncConfig(dead_letter_queue=Destination("queue", "dead")),
)
FACTS = documents.Facts(CodeDigest("c2hh", 1234), PUBLISHED_STATUS, 1_765_000_000.5)


def _check(value: Any, shape: Any, where: str) -> None:
    """Every key of ``value`` is a member of ``shape``, recursively, with the model's type."""
    if shape.type_name == "structure":
        assert isinstance(value, dict), where
        for key, item in value.items():
            assert key in shape.members, f"{where}.{key} is not in {shape.name}"
            _check(item, shape.members[key], f"{where}.{key}")
    elif shape.type_name == "list":
        assert isinstance(value, list), where
        for item in value:
            _check(item, shape.member, f"{where}[]")
    elif shape.type_name == "map":
        assert isinstance(value, dict), where
        for item in value.values():
            _check(item, shape.value, f"{where}{{}}")
    elif shape.type_name in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), where
    elif shape.type_name in ("float", "double"):
        assert isinstance(value, float), where
    elif shape.type_name == "string":
        assert isinstance(value, str), where
        if shape.enum:
            assert value in shape.enum, f"{where}: {value!r} not in {shape.enum}"


def _output(operation: str) -> Any:
    return MODEL.operation_model(operation).output_shape


def test_a_function_configuration_is_the_models_shape() -> None:
    document = documents.configuration(FN, FACTS, SETTINGS)
    _check(document, MODEL.shape_for("FunctionConfiguration"), "FunctionConfiguration")
    assert document["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:echo"
    assert document["DeadLetterConfig"] == {"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dead"}
    assert document["LastModified"] == "2025-12-06T05:46:40.500+0000"
    qualified = documents.configuration(FN, FACTS, SETTINGS, qualified=True)
    assert qualified["FunctionArn"].endswith(":function:echo:$LATEST")


def test_an_alias_and_the_account_settings_are_the_models_shapes() -> None:
    alias = Alias("live", "1", "d", MappingProxyType({"2": 0.25}), "rev")
    _check(documents.alias_document(FN, alias, SETTINGS), _output("GetAlias"), "GetAlias")
    settings = documents.account_settings(SETTINGS, [FN], 1234)
    _check(settings, _output("GetAccountSettings"), "GetAccountSettings")


@pytest.mark.parametrize(
    ("marker", "size", "expected"),
    [
        (None, 2, ([0, 1], "2")),
        ("2", 2, ([2, 3], "4")),
        ("4", 2, ([4], None)),
        (None, 10, ([0, 1, 2, 3, 4], None)),
    ],
    ids=[
        "the first page names the next",
        "a middle page continues where the last stopped",
        "the last page has no next marker",
        "one page holds everything",
    ],
)
def test_pages_follow_their_markers(
    marker: str | None, size: int, expected: tuple[list[int], str | None]
) -> None:
    assert documents.page([0, 1, 2, 3, 4], marker, size) == expected


def test_a_marker_that_was_never_given_is_refused() -> None:
    with pytest.raises(InvalidParameterValue):
        documents.page([0, 1], "x", 1)


@pytest.mark.parametrize(("method", "uri", "operation"), ROUTES, ids=[r[2] for r in ROUTES])
def test_each_route_is_the_models(method: str, uri: str, operation: str) -> None:
    http = MODEL.operation_model(operation).http
    assert (http["method"], http["requestUri"].rstrip("/")) == (method, uri)


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/2015-03-31/functions/", Match("ListFunctions", {})),
        ("GET", "/2015-03-31/functions", Match("ListFunctions", {})),
        (
            "GET",
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A0%3Afunction%3Aecho",
            Match("GetFunction", {"FunctionName": "arn:aws:lambda:us-east-1:0:function:echo"}),
        ),
        (
            "DELETE",
            "/2015-03-31/functions/echo/aliases/live",
            Match("DeleteAlias", {"FunctionName": "echo", "Name": "live"}),
        ),
        ("PATCH", "/2015-03-31/functions/echo", None),
        ("GET", "/2015-03-31/functions/echo/policy", None),
    ],
    ids=[
        "ListFunctions with a trailing slash",
        "ListFunctions without one",
        "a label is percent-decoded",
        "two labels",
        "a method no operation has",
        "an operation skylet does not serve",
    ],
)
def test_requests_match_their_operation(method: str, path: str, expected: Match | None) -> None:
    assert match(method, path) == expected
