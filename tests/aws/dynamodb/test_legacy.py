"""The legacy parameters translated to expression trees (pure): each case's outcome as the
developer guide's "Writing conditions with legacy parameters" states it, evaluated by the
one evaluator, and DynamoDB's validation messages."""

from __future__ import annotations

from typing import Any

import pytest

from skylet.aws.dynamodb import legacy
from skylet.aws.dynamodb.conditions import matches, project
from skylet.aws.dynamodb.keys import KeySchema, key_condition
from skylet.aws.dynamodb.updates import apply
from skylet.aws.dynamodb.values import key_bytes
from skylet.errors import ServiceError

BOOK = {
    "Id": {"N": "101"},
    "ProductCategory": {"S": "Book"},
    "PageCount": {"N": "600"},
    "Color": {"SS": ["Black", "Red"]},
    "Title": {"S": "Book 101 Title"},
    "InPublication": {"BOOL": False},
}


def cond(operator: str, *values: Any) -> dict[str, Any]:
    return {"ComparisonOperator": operator, "AttributeValueList": list(values)}


@pytest.mark.parametrize(
    ("conditions", "operator", "expected"),
    [
        ({"PageCount": cond("GT", {"N": "100"})}, None, True),
        ({"PageCount": cond("LT", {"N": "100"})}, None, False),
        ({"PageCount": cond("GE", {"N": "600"})}, None, True),
        ({"PageCount": cond("LE", {"N": "599"})}, None, False),
        ({"PageCount": cond("EQ", {"S": "600"})}, None, False),  # a string is not a number
        ({"Color": cond("EQ", {"SS": ["Red", "Black"]})}, None, True),  # sets: order free
        ({"Color": cond("EQ", {"N": "3"})}, None, False),
        ({"Title": cond("NE", {"S": "x"})}, None, True),
        ({"Missing": cond("NE", {"S": "x"})}, None, True),
        ({"ProductCategory": cond("BEGINS_WITH", {"S": "Bo"})}, None, True),
        ({"Title": cond("CONTAINS", {"S": "101"})}, None, True),
        ({"Color": cond("CONTAINS", {"S": "Red"})}, None, True),
        ({"Color": cond("NOT_CONTAINS", {"S": "Red"})}, None, False),
        ({"Color": cond("NOT_CONTAINS", {"S": "Blue"})}, None, True),
        ({"Missing": cond("NOT_CONTAINS", {"S": "Blue"})}, None, False),
        ({"Id": cond("IN", {"N": "201"}, {"N": "101"})}, None, True),
        ({"Id": cond("IN", {"N": "201"}, {"N": "203"})}, None, False),
        ({"PageCount": cond("BETWEEN", {"N": "100"}, {"N": "600"})}, None, True),
        ({"PageCount": cond("BETWEEN", {"N": "601"}, {"N": "700"})}, None, False),
        ({"Dimensions": cond("NOT_NULL")}, None, False),
        ({"Dimensions": cond("NULL")}, None, True),
        (
            {
                "ProductCategory": cond("EQ", {"S": "Book"}),
                "PageCount": cond("GE", {"N": "600"}),
            },
            "AND",
            True,
        ),
        (
            {"ProductCategory": cond("EQ", {"S": "Bike"}), "PageCount": cond("GE", {"N": "700"})},
            "OR",
            False,
        ),
        (
            {"ProductCategory": cond("EQ", {"S": "Bike"}), "PageCount": cond("GE", {"N": "600"})},
            "OR",
            True,
        ),
        ({"InPublication": {"Exists": True, "Value": {"BOOL": False}}}, None, True),
        ({"InPublication": {"Value": {"BOOL": True}}}, None, False),
        ({"Id": {"Exists": False}}, None, False),
        ({"Nope": {"Exists": False}}, None, True),
        ({"InPublication": {"ComparisonOperator": "EQ", "Value": {"BOOL": False}}}, None, True),
    ],
    ids=lambda v: str(v)[:60] if not isinstance(v, bool) else str(v),
)
def test_expected_conditions_evaluate_as_the_guide_says(
    conditions: dict[str, Any], operator: str | None, expected: bool
) -> None:
    request: dict[str, Any] = {"Expected": conditions}
    if operator:
        request["ConditionalOperator"] = operator
    tree = legacy.expected(request)
    assert tree is not None
    assert matches(tree, BOOK) is expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"a": {"Exists": True}},
            "One or more parameter values were invalid: Value must be provided when Exists is "
            "true for Attribute: a",
        ),
        (
            {"a": {}},
            "One or more parameter values were invalid: Value must be provided when Exists is "
            "null for Attribute: a",
        ),
        (
            {"a": {"Exists": False, "Value": {"S": "x"}}},
            "One or more parameter values were invalid: Value cannot be used when Exists is "
            "false for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "EQ", "Exists": True, "Value": {"S": "x"}}},
            "One or more parameter values were invalid: Exists and ComparisonOperator cannot be "
            "used together for Attribute: a",
        ),
        (
            {"a": {"ComparisonOperator": "GT"}},
            "One or more parameter values were invalid: Value or AttributeValueList must be "
            "used with ComparisonOperator: GT for Attribute: a",
        ),
        (
            {"a": cond("EQ", {"S": "x"}, {"S": "y"})},
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "EQ ComparisonOperator",
        ),
        (
            {"a": cond("NULL", {"S": "x"})},
            "One or more parameter values were invalid: Invalid number of argument(s) for the "
            "NULL ComparisonOperator",
        ),
        (
            {"a": cond("LT", {"SS": ["x"]})},
            "One or more parameter values were invalid: ComparisonOperator LT is not valid for "
            "SS AttributeValue type",
        ),
        (
            {"a": cond("BEGINS_WITH", {"N": "1"})},
            "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not "
            "valid for N AttributeValue type",
        ),
        (
            {"a": cond("IN", {"N": "1"}, {"S": "1"})},
            "One or more parameter values were invalid: AttributeValues inside "
            "AttributeValueList must be of same type",
        ),
        (
            {"a": cond("BETWEEN", {"N": "5"}, {"N": "1"})},
            "The BETWEEN condition was provided a range where the lower bound is greater than "
            "the upper bound",
        ),
    ],
    ids=lambda v: str(v)[:50],
)
def test_malformed_expected_conditions_are_refused_in_dynamodbs_words(
    spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        legacy.expected({"Expected": spec})
    assert (raised.value.code, raised.value.message) == ("ValidationException", message)


@pytest.mark.parametrize(
    ("operation", "request_", "message"),
    [
        (
            "PutItem",
            {"Expected": {"a": {"Exists": False}}, "ConditionExpression": "attribute_exists(a)"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}",
        ),
        (
            "UpdateItem",
            {"AttributeUpdates": {}, "UpdateExpression": "SET a = :v"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributeUpdates} Expression parameters: "
            "{UpdateExpression}",
        ),
        (
            "Query",
            {"KeyConditionExpression": "k = :k", "QueryFilter": {}},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {QueryFilter} Expression parameters: "
            "{KeyConditionExpression}",
        ),
        (
            "GetItem",
            {"AttributesToGet": ["a"], "ProjectionExpression": "a"},
            "Can not use both expression and non-expression parameters in the same request: "
            "Non-expression parameters: {AttributesToGet} Expression parameters: "
            "{ProjectionExpression}",
        ),
        (
            "PutItem",
            {"ExpressionAttributeNames": {"#a": "a"}},
            "ExpressionAttributeNames can only be specified when using expressions",
        ),
        (
            "UpdateItem",
            {"ExpressionAttributeValues": {":a": {"S": "a"}}},
            "ExpressionAttributeValues can only be specified when using expressions: "
            "UpdateExpression and ConditionExpression are null",
        ),
    ],
    ids=["put", "update", "query", "get", "names", "values"],
)
def test_mixing_the_styles_is_refused(
    operation: str, request_: dict[str, Any], message: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        legacy.check_styles(request_, operation)
    assert raised.value.message == message


def test_key_conditions_with_a_filter_expression_are_allowed() -> None:
    legacy.check_styles({"KeyConditions": {}, "FilterExpression": "a = :a"}, "Query")


SCHEMA = KeySchema("ForumName", "S", "Subject", "S")


def test_key_conditions_become_one_partitions_range() -> None:
    request = {
        "KeyConditions": {
            "ForumName": cond("EQ", {"S": "S3"}),
            "Subject": cond("BETWEEN", {"S": "a"}, {"S": "m"}),
        }
    }
    found = key_condition(legacy.key_conditions(request), SCHEMA)
    assert (found.partition, found.low, found.high) == (
        key_bytes({"S": "S3"}),
        key_bytes({"S": "a"}),
        key_bytes({"S": "m"}),
    )


def test_key_conditions_refuse_operators_an_index_cannot_serve() -> None:
    request = {"KeyConditions": {"ForumName": cond("NE", {"S": "S3"})}}
    with pytest.raises(ServiceError) as raised:
        legacy.key_conditions(request)
    assert raised.value.message == "Attempted conditional constraint is not an indexable operation"


def test_a_query_filter_may_not_name_the_key() -> None:
    request = {"QueryFilter": {"Subject": cond("EQ", {"S": "x"})}}
    with pytest.raises(ServiceError) as raised:
        legacy.filters(request, "QueryFilter", SCHEMA)
    assert raised.value.message == (
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: Subject"
    )


def test_attribute_updates_put_delete_and_add() -> None:
    item = {
        "ForumName": {"S": "S3"},
        "Subject": {"S": "a"},
        "Views": {"N": "3"},
        "Tags": {"SS": ["x", "y"]},
        "Replies": {"L": [{"S": "r1"}]},
        "Old": {"S": "gone"},
    }
    request = {
        "AttributeUpdates": {
            "Views": {"Action": "ADD", "Value": {"N": "2"}},
            "Count": {"Action": "ADD", "Value": {"N": "1"}},  # missing: counts from 0
            "Tags": {"Action": "DELETE", "Value": {"SS": ["x"]}},
            "Replies": {"Action": "ADD", "Value": {"L": [{"S": "r2"}]}},  # lists append
            "Old": {"Action": "DELETE"},
            "Title": {"Value": {"S": "new"}},  # PUT is the default
        }
    }
    after = apply(legacy.attribute_updates(request, SCHEMA), item)
    assert after == {
        "ForumName": {"S": "S3"},
        "Subject": {"S": "a"},
        "Views": {"N": "5"},
        "Count": {"N": "1"},
        "Tags": {"SS": ["y"]},
        "Replies": {"L": [{"S": "r1"}, {"S": "r2"}]},
        "Title": {"S": "new"},
    }


@pytest.mark.parametrize(
    ("updates", "message"),
    [
        (
            {"Subject": {"Value": {"S": "b"}}},
            "One or more parameter values were invalid: Cannot update attribute Subject. This "
            "attribute is part of the key",
        ),
        (
            {"a": {"Action": "PUT"}},
            "One or more parameter values were invalid: Only DELETE action is allowed when no "
            "attribute value is specified",
        ),
        (
            {"a": {"Action": "ADD", "Value": {"S": "x"}}},
            "One or more parameter values were invalid: ADD action is not supported for the type S",
        ),
        (
            {"a": {"Action": "DELETE", "Value": {"N": "1"}}},
            "One or more parameter values were invalid: DELETE action with value is not "
            "supported for the type N",
        ),
    ],
    ids=["key", "put-without-value", "add-string", "delete-number"],
)
def test_malformed_attribute_updates_are_refused(updates: dict[str, Any], message: str) -> None:
    with pytest.raises(ServiceError) as raised:
        legacy.attribute_updates({"AttributeUpdates": updates}, SCHEMA)
    assert raised.value.message == message


def test_attributes_to_get_project_top_level_names() -> None:
    paths = legacy.attributes_to_get({"AttributesToGet": ["Title", "Color", "Nope"]})
    assert paths is not None
    assert project(BOOK, paths) == {"Title": BOOK["Title"], "Color": BOOK["Color"]}
    with pytest.raises(ServiceError):
        legacy.attributes_to_get({"AttributesToGet": ["a", "a"]})
