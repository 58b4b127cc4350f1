"""PartiQL's simple statements parsed (pure): what each becomes, and the statements refused."""

from __future__ import annotations

import pytest

from skylet.aws.dynamodb.conditions import matches
from skylet.aws.dynamodb.grammar import Arithmetic, Literal, PathRef
from skylet.aws.dynamodb.partiql import parse
from skylet.errors import ServiceError

ITEM = {
    "Id": {"N": "101"},
    "Title": {"S": "Book 101"},
    "Price": {"N": "2"},
    "Info": {"M": {"Tags": {"L": [{"S": "new"}]}}},
}


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Id = 101", True),
        ("Id <> 101", False),
        ("Id != 102", True),
        ("Price BETWEEN 1 AND 3", True),
        ("Id IN [100, 101]", True),
        ("Id IN (100, 102)", False),
        ("begins_with(Title, 'Book')", True),
        ("contains(Title, '101') AND NOT Price > 5", True),
        ("attribute_not_exists(Nope) OR Price = 0", True),
        ("Info.Tags[0] = 'new'", True),
        ('"Price" = -2', False),
        ("(Id = 1 OR Id = 101) AND Price < 3", True),
    ],
)
def test_where_clauses_evaluate_on_an_item(where: str, expected: bool) -> None:
    statement = parse(f'SELECT * FROM "Books" WHERE {where}', [])
    assert statement.where is not None
    assert matches(statement.where, ITEM) is expected


def test_parameters_fill_the_question_marks_in_order() -> None:
    statement = parse(
        "INSERT INTO Books VALUE {'Id': ?, 'Tags': <<'a', 'b'>>, 'On': TRUE, 'L': [1, ?]}",
        [{"N": "7"}, {"S": "x"}],
    )
    assert statement.item == {
        "Id": {"N": "7"},
        "Tags": {"SS": ["a", "b"]},
        "On": {"BOOL": True},
        "L": {"L": [{"N": "1"}, {"S": "x"}]},
    }


def test_an_update_has_its_assignments_and_removals() -> None:
    statement = parse(
        "UPDATE Books SET Price = Price - 1, Title = ? REMOVE Info WHERE Id = 1", [{"S": "t"}]
    )
    (price, title) = statement.sets
    assert price == (("Price",), Arithmetic("-", PathRef(("Price",)), Literal({"N": "1"}, "?")))
    assert title == (("Title",), Literal({"S": "t"}, "?"))
    assert statement.removes == [("Info",)]


def test_a_select_names_its_index_and_projection() -> None:
    statement = parse('SELECT Title, Info.Tags FROM "Books"."ByTitle"', [])
    assert (statement.table, statement.index) == ("Books", "ByTitle")
    assert statement.projection == [("Title",), ("Info", "Tags")]


@pytest.mark.parametrize(
    ("text", "parameters", "message"),
    [
        ("SELECT * FROM Books WHERE Id = ?", [], "Number of parameters in request and statement"),
        ("SELECT * FROM Books", [{"N": "1"}], "Number of parameters in request and statement"),
        ("SELEC * FROM Books", [], "Statement wasn't well formed"),
        ("SELECT * FROM Books WHERE Id =", [], "Statement wasn't well formed"),
        ("UPDATE Books WHERE Id = 1", [], "Statement wasn't well formed"),
        ("", [], "Statement wasn't well formed"),
    ],
)
def test_malformed_statements_are_validation_errors(
    text: str, parameters: list[dict[str, str]], message: str
) -> None:
    with pytest.raises(ServiceError) as raised:
        parse(text, list(parameters))
    assert raised.value.code == "ValidationException"
    assert raised.value.message.startswith(message)
