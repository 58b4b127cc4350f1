"""The expression languages over DynamoDB's documentation examples (pure; no sockets).

The item is the ProductCatalog item 789 of DynamoDB's developer guide ("Using expressions");
each case's expected result is the one the guide states for that expression.
"""

from __future__ import annotations

from typing import Any

import pytest

from skylet.aws.dynamodb.conditions import matches, project
from skylet.aws.dynamodb.grammar import Parser, Usage, check_unused
from skylet.aws.dynamodb.keys import KeySchema, key_condition
from skylet.aws.dynamodb.updates import apply
from skylet.aws.dynamodb.values import key_bytes
from skylet.errors import ServiceError


def item789() -> dict[str, Any]:
    return {
        "Id": {"N": "789"},
        "ProductCategory": {"S": "Home Improvement"},
        "Price": {"N": "52"},
        "InStock": {"BOOL": True},
        "QuantityOnHand": {"NULL": True},
        "RelatedItems": {"L": [{"N": "341"}, {"N": "472"}, {"N": "649"}]},
        "Color": {"SS": ["Red", "Black", "Green"]},
        "Pictures": {
            "M": {
                "FrontView": {"S": "http://example.com/products/789_front.jpg"},
                "RearView": {"S": "http://example.com/products/789_rear.jpg"},
                "SideView": {"S": "http://example.com/products/789_left_side.jpg"},
            }
        },
        "ProductReviews": {
            "M": {
                "FiveStar": {
                    "L": [
                        {"S": "Excellent! Can't recommend it highly enough! Buy it!"},
                        {"S": "Do yourself a favor and buy this."},
                    ]
                },
                "OneStar": {"L": [{"S": "Terrible product! Do not buy this."}]},
            }
        },
        "Comment": {"S": "This product sells out quickly during the summer"},
        "Safety.Warning": {"S": "Always wear a helmet"},
    }


def condition(
    text: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> bool:
    tree = Parser("ConditionExpression", text, names, values).condition()
    return matches(tree, item789())


CONDITIONS = [
    ("Price <= :p", {":p": {"N": "500"}}, None, True),
    ("Price > :p", {":p": {"N": "500"}}, None, False),
    ("attribute_not_exists(Price)", None, None, False),
    ("attribute_exists(Pictures.SideView)", None, None, True),
    ("attribute_exists(Pictures.TopView)", None, None, False),
    ("attribute_not_exists(Manufacturer)", None, None, True),
    ("attribute_type(ProductReviews.FiveStar, :v_sub)", {":v_sub": {"S": "L"}}, None, True),
    ("attribute_type(Price, :v_sub)", {":v_sub": {"S": "S"}}, None, False),
    ("begins_with(Pictures.FrontView, :v_sub)", {":v_sub": {"S": "http://"}}, None, True),
    ("begins_with(Pictures.FrontView, :v_sub)", {":v_sub": {"S": "https://"}}, None, False),
    ("contains(Color, :v_sub)", {":v_sub": {"S": "Red"}}, None, True),
    ("contains(Color, :v_sub)", {":v_sub": {"S": "Blue"}}, None, False),
    ("contains(#c, :v_sub)", {":v_sub": {"S": "summer"}}, {"#c": "Comment"}, True),
    ("contains(RelatedItems, :v_sub)", {":v_sub": {"N": "472"}}, None, True),
    ("size(#c) > :v_sub", {":v_sub": {"N": "20"}}, {"#c": "Comment"}, True),
    ("size(Color) = :n", {":n": {"N": "3"}}, None, True),
    ("size(Pictures) = :n", {":n": {"N": "3"}}, None, True),
    ("size(Price) = :n", {":n": {"N": "2"}}, None, False),
    (
        "ProductCategory IN (:cat1, :cat2)",
        {":cat1": {"S": "Sporting Goods"}, ":cat2": {"S": "Home Improvement"}},
        None,
        True,
    ),
    ("Price BETWEEN :lo AND :hi", {":lo": {"N": "50"}, ":hi": {"N": "60"}}, None, True),
    ("Price BETWEEN :lo AND :hi", {":lo": {"N": "52"}, ":hi": {"N": "52"}}, None, True),
    ("Price between :lo and :hi", {":lo": {"N": "53"}, ":hi": {"N": "60"}}, None, False),
    ("#sw = :v", {":v": {"S": "Always wear a helmet"}}, {"#sw": "Safety.Warning"}, True),
    ("RelatedItems[1] = :v", {":v": {"N": "472"}}, None, True),
    ("RelatedItems[7] = :v", {":v": {"N": "472"}}, None, False),
    (
        "ProductReviews.FiveStar[0] = :v",
        {":v": {"S": "Excellent! Can't recommend it highly enough! Buy it!"}},
        None,
        True,
    ),
    ("Price = :v", {":v": {"S": "52"}}, None, False),
    ("Price <> :v", {":v": {"S": "52"}}, None, True),
    ("Price = :v", {":v": {"N": "52.000"}}, None, True),
    ("Manufacturer <> :v", {":v": {"S": "Acme"}}, None, True),
    ("Manufacturer < :v", {":v": {"S": "Acme"}}, None, False),
    ("Color = :v", {":v": {"SS": ["Green", "Red", "Black"]}}, None, True),
    ("NOT attribute_exists(Price)", None, None, False),
    ("attribute_exists(Price) AND NOT InStock = :f", {":f": {"BOOL": False}}, None, True),
    # AND binds tighter than OR: true OR (false AND false).
    ("attribute_exists(Id) OR attribute_exists(X) AND attribute_exists(Y)", None, None, True),
    ("(attribute_exists(Id) OR attribute_exists(X)) AND attribute_exists(Y)", None, None, False),
    ("NOT (attribute_exists(X) OR attribute_exists(Y))", None, None, True),
    ("QuantityOnHand = :null", {":null": {"NULL": True}}, None, True),
]


@pytest.mark.parametrize(
    ("text", "values", "names", "expected"), CONDITIONS, ids=[c[0] for c in CONDITIONS]
)
def test_condition_evaluates_as_the_guide_states(
    text: str, values: dict[str, Any] | None, names: dict[str, str] | None, expected: bool
) -> None:
    assert condition(text, values, names) is expected


REFUSALS = [
    (
        "Price = = :p",
        {":p": {"N": "1"}},
        None,
        'Invalid ConditionExpression: Syntax error; token: "=", near: "= = :p"',
    ),
    (
        "Price = :p AND",
        {":p": {"N": "1"}},
        None,
        'Invalid ConditionExpression: Syntax error; token: "<EOF>", near: "AND"',
    ),
    (
        "Price = :q",
        {":p": {"N": "1"}},
        None,
        "Invalid ConditionExpression: An expression attribute value used in expression is not "
        "defined; attribute value: :q",
    ),
    (
        "#p = :p",
        {":p": {"N": "1"}},
        None,
        "Invalid ConditionExpression: An expression attribute name used in the document path is "
        "not defined; attribute name: #p",
    ),
    (
        "Status = :p",
        {":p": {"N": "1"}},
        None,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: "
        "Status",
    ),
    (
        "attribute_type(Price, :t)",
        {":t": {"S": "X"}},
        None,
        "Invalid ConditionExpression: Invalid attribute type name found; type: {S:X}, valid "
        "types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}",
    ),
    (
        "Price BETWEEN :hi AND :lo",
        {":lo": {"N": "1"}, ":hi": {"N": "5"}},
        None,
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than "
        "or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: "
        "AttributeValue: {N:1}",
    ),
    (
        "list_append(a, b)",
        None,
        None,
        "Invalid ConditionExpression: The function is not allowed in a condition expression; "
        "function: list_append",
    ),
    (
        "frobnicate(a)",
        None,
        None,
        "Invalid ConditionExpression: Invalid function name; function: frobnicate",
    ),
    ("", None, None, "Invalid ConditionExpression: The expression can not be empty;"),
]


@pytest.mark.parametrize(
    ("text", "values", "names", "message"), REFUSALS, ids=[r[3][:60] for r in REFUSALS]
)
def test_mistakes_are_refused_with_dynamodbs_message(
    text: str, values: dict[str, Any] | None, names: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ServiceError) as error:
        condition(text, values, names)
    assert error.value.code == "ValidationException"
    assert str(error.value) == message


def test_unused_placeholders_are_refused() -> None:
    usage = Usage()
    Parser("ConditionExpression", "Price = :p", None, {":p": {"N": "1"}}, usage).condition()
    with pytest.raises(ServiceError, match=r"unused in expressions: keys: \{:q\}"):
        check_unused(usage, None, {":p": {"N": "1"}, ":q": {"N": "2"}})
    with pytest.raises(ServiceError, match=r"ExpressionAttributeNames unused.*\{#n\}"):
        check_unused(usage, {"#n": "x"}, {":p": {"N": "1"}})


def update(
    text: str, values: dict[str, Any] | None = None, names: dict[str, str] | None = None
) -> dict[str, Any]:
    actions = Parser("UpdateExpression", text, names, values).update()
    return apply(actions, item789())


def test_set_decrements_the_price() -> None:
    assert update("SET Price = Price - :p", {":p": {"N": "15"}})["Price"] == {"N": "37"}


def test_set_several_attributes_and_a_nested_map_member() -> None:
    after = update(
        "SET ProductCategory = :c, Price = :p, #pr.FiveStar[0] = :r",
        {":c": {"S": "Hardware"}, ":p": {"N": "60"}, ":r": {"S": "Best"}},
        {"#pr": "ProductReviews"},
    )
    assert after["ProductCategory"] == {"S": "Hardware"}
    assert after["Price"] == {"N": "60"}
    assert after["ProductReviews"]["M"]["FiveStar"]["L"][0] == {"S": "Best"}


def test_list_append_adds_to_the_end_and_to_the_front() -> None:
    values = {":r": {"L": [{"S": "Great!"}]}}
    end = update(
        "SET #pr.OneStar = list_append(#pr.OneStar, :r)", values, {"#pr": "ProductReviews"}
    )
    assert end["ProductReviews"]["M"]["OneStar"]["L"][-1] == {"S": "Great!"}
    front = update(
        "SET #pr.OneStar = list_append(:r, #pr.OneStar)", values, {"#pr": "ProductReviews"}
    )
    assert front["ProductReviews"]["M"]["OneStar"]["L"][0] == {"S": "Great!"}


def test_set_past_a_lists_end_appends() -> None:
    after = update("SET RelatedItems[10] = :ri", {":ri": {"N": "999"}})
    assert after["RelatedItems"]["L"][-1] == {"N": "999"} and len(after["RelatedItems"]["L"]) == 4


def test_if_not_exists_keeps_what_is_there() -> None:
    after = update(
        "SET Price = if_not_exists(Price, :p), Stock = if_not_exists(Stock, :p)",
        {":p": {"N": "100"}},
    )
    assert after["Price"] == {"N": "52"} and after["Stock"] == {"N": "100"}


def test_remove_list_elements_names_the_original_indexes() -> None:
    after = update("REMOVE RelatedItems[0], RelatedItems[2], #c", None, {"#c": "Comment"})
    assert after["RelatedItems"] == {"L": [{"N": "472"}]}
    assert "Comment" not in after


def test_add_to_a_number_and_to_a_set() -> None:
    after = update(
        "ADD Price :n, Color :c, Fresh :n", {":n": {"N": "5"}, ":c": {"SS": ["Orange", "Red"]}}
    )
    assert after["Price"] == {"N": "57"}
    assert after["Color"] == {"SS": ["Red", "Black", "Green", "Orange"]}
    assert after["Fresh"] == {"N": "5"}


def test_delete_removes_set_members_and_an_emptied_set() -> None:
    after = update("DELETE Color :c", {":c": {"SS": ["Red", "Black"]}})
    assert after["Color"] == {"SS": ["Green"]}
    gone = update("DELETE Color :c", {":c": {"SS": ["Red", "Black", "Green"]}})
    assert "Color" not in gone


def test_numbers_keep_38_digits() -> None:
    big = "1" + "0" * 36 + "1"  # 38 significant digits
    after = update("SET Price = Price + :b", {":b": {"N": big}})
    assert after["Price"] == {"N": str(int(big) + 52)}


UPDATE_REFUSALS = [
    (
        "SET Price = Price + :s",
        {":s": {"S": "x"}},
        "Invalid UpdateExpression: An operand in the update expression has an incorrect data type",
    ),
    (
        "SET Price = Nope + :n",
        {":n": {"N": "1"}},
        "The provided expression refers to an attribute that does not exist in the item",
    ),
    (
        "SET Nope.Deeper = :n",
        {":n": {"N": "1"}},
        "The document path provided in the update expression is invalid for update",
    ),
    (
        "SET Price = :n, Price = :n",
        {":n": {"N": "1"}},
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [Price], path two: [Price]",
    ),
    (
        "SET Pictures = :n REMOVE Pictures.SideView",
        {":n": {"N": "1"}},
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or "
        "rewrite one of these paths; path one: [Pictures], path two: [Pictures, SideView]",
    ),
    (
        "SET a = :n SET b = :n",
        {":n": {"N": "1"}},
        'Invalid UpdateExpression: The "SET" section can only be used once in an update '
        "expression;",
    ),
    (
        "ADD ProductCategory :n",
        {":n": {"N": "1"}},
        "Invalid UpdateExpression: An operand in the update expression has an incorrect data type",
    ),
    (
        "DELETE Color :n",
        {":n": {"N": "1"}},
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: "
        "DELETE, operand type: NUMBER",
    ),
    (
        "SET Price = size(Color)",
        None,
        "Invalid UpdateExpression: The function is not allowed in a update expression; "
        "function: size",
    ),
]


@pytest.mark.parametrize(
    ("text", "values", "message"), UPDATE_REFUSALS, ids=[u[0] for u in UPDATE_REFUSALS]
)
def test_update_mistakes_are_refused(
    text: str, values: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ServiceError) as error:
        update(text, values)
    assert str(error.value) == message


def test_projection_keeps_nested_members_and_closes_up_lists() -> None:
    paths = Parser(
        "ProjectionExpression",
        "Description, RelatedItems[0], RelatedItems[2], ProductReviews.FiveStar, #sw",
        {"#sw": "Safety.Warning"},
        None,
    ).projection()
    assert project(item789(), paths) == {
        "RelatedItems": {"L": [{"N": "341"}, {"N": "649"}]},
        "ProductReviews": {"M": {"FiveStar": item789()["ProductReviews"]["M"]["FiveStar"]}},
        "Safety.Warning": {"S": "Always wear a helmet"},
    }


SCHEMA = KeySchema("ForumName", "S", "Subject", "S")


@pytest.mark.parametrize(
    ("text", "values", "low", "high"),
    [
        ("ForumName = :f", {":f": {"S": "S3"}}, None, None),
        ("ForumName = :f AND Subject = :s", {":f": {"S": "S3"}, ":s": {"S": "a"}}, b"a", b"a"),
        (
            "ForumName = :f AND begins_with(Subject, :s)",
            {":f": {"S": "S3"}, ":s": {"S": "ab"}},
            b"ab",
            b"ac",
        ),
        (
            "Subject BETWEEN :a AND :b AND ForumName = :f",
            {":f": {"S": "S3"}, ":a": {"S": "a"}, ":b": {"S": "c"}},
            b"a",
            b"c",
        ),
    ],
    ids=["partition only", "equal sort key", "begins_with", "between, either order"],
)
def test_key_conditions_name_one_partitions_range(
    text: str, values: dict[str, Any], low: bytes | None, high: bytes | None
) -> None:
    tree = Parser("KeyConditionExpression", text, None, values).condition()
    key = key_condition(tree, SCHEMA)
    assert key.partition == b"S3" and key.low == low and key.high == high


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Subject = :s", "Query condition missed key schema element: ForumName"),
        ("ForumName = :f OR Subject = :s", "Invalid operator used in KeyConditionExpression: OR"),
        ("ForumName = :f AND Body = :s", "Query key condition not supported"),
        ("ForumName <> :f", "Invalid operator used in KeyConditionExpression: <>"),
        (
            "ForumName = :n",
            "One or more parameter values were invalid: Condition parameter type "
            "does not match schema type",
        ),
    ],
)
def test_key_condition_mistakes(text: str, message: str) -> None:
    values = {":f": {"S": "S3"}, ":s": {"S": "a"}, ":n": {"N": "1"}}
    tree = Parser("KeyConditionExpression", text, None, values).condition()
    with pytest.raises(ServiceError) as error:
        key_condition(tree, SCHEMA)
    assert str(error.value) == message


def test_number_keys_order_by_value() -> None:
    numbers = [
        "-1E+10",
        "-100",
        "-10.5",
        "-10",
        "-0.123",
        "-0.12",
        "0",
        "1E-130",
        "0.12",
        "0.123",
        "1",
        "9.99",
        "10",
        "10.5",
        "100",
        "9.9999999999999999999999999999999999999E+125",
    ]
    encoded = [key_bytes({"N": n}) for n in numbers]
    assert encoded == sorted(encoded)
