"""Applying an update expression to an item (pure): ``apply(actions, item) -> new item``.

Every operand is evaluated against the item as it was before the update (DynamoDB evaluates
all of an expression's operands first), then the actions are applied in order: SET, REMOVE
(list elements removed from the highest index down, so indexes name the original elements),
ADD (numbers added, a missing one counts as 0; sets united), DELETE (set members removed; an
emptied set is removed). Errors are DynamoDB's ValidationExceptions.
"""

from __future__ import annotations

import copy
from typing import Any

from skylet.aws.dynamodb.conditions import operand_value, resolve
from skylet.aws.dynamodb.grammar import (
    Action,
    Arithmetic,
    Call,
    Literal,
    Operand,
    Path,
    PathRef,
    path_text,
)
from skylet.aws.dynamodb.values import SETS, Item, Value, add, invalid, normalise, number

_KIND = "UpdateExpression"


def _incorrect_type() -> Exception:
    return invalid(
        f"Invalid {_KIND}: An operand in the update expression has an incorrect data type"
    )


def _missing() -> Exception:
    return invalid("The provided expression refers to an attribute that does not exist in the item")


def _invalid_path() -> Exception:
    return invalid("The document path provided in the update expression is invalid for update")


def check_overlap(paths: list[Path], kind: str) -> None:
    """DynamoDB refuses two paths of one expression where one is a prefix of the other
    (overlap) or they name one place as a map and a list (conflict)."""
    for i, first in enumerate(paths):
        for second in paths[i + 1 :]:
            shared = min(len(first), len(second))
            if first[:shared] == second[:shared]:
                raise invalid(
                    f"Invalid {kind}: Two document paths overlap with each other; must remove "
                    f"or rewrite one of these paths; path one: {path_text(first)}, path two: "
                    f"{path_text(second)}"
                )
            for a, b in zip(first, second, strict=False):
                if a != b:
                    if isinstance(a, int) != isinstance(b, int):
                        raise invalid(
                            f"Invalid {kind}: Two document paths conflict with each other; must "
                            f"remove or rewrite one of these paths; path one: {path_text(first)}, "
                            f"path two: {path_text(second)}"
                        )
                    break


def _evaluate(operand: Operand, item: Item) -> Value:
    if isinstance(operand, Literal):
        return normalise(operand.value)
    if isinstance(operand, PathRef):
        value = resolve(item, operand.path)
        if value is None:
            raise _missing()
        return value
    if isinstance(operand, Arithmetic):
        left, right = _evaluate(operand.left, item), _evaluate(operand.right, item)
        if "N" not in left or "N" not in right:
            raise _incorrect_type()
        return {"N": add(left["N"], right["N"], subtract=operand.op == "-")}
    assert isinstance(operand, Call)
    if operand.name == "if_not_exists":
        first = operand.args[0]
        assert isinstance(first, PathRef)
        present = resolve(item, first.path)
        return present if present is not None else _evaluate(operand.args[1], item)
    if operand.name == "list_append":
        left, right = _evaluate(operand.args[0], item), _evaluate(operand.args[1], item)
        if "L" not in left or "L" not in right:
            raise _incorrect_type()
        return {"L": [*left["L"], *right["L"]]}
    return operand_value(operand, item, _KIND) or {}


def apply(actions: list[Action], item: Item) -> Item:
    """The item after ``actions``; ``item`` is not changed."""
    check_overlap([a.path for a in actions], _KIND)
    before = item
    values = [None if a.value is None else _evaluate(a.value, before) for a in actions]
    after: Item = copy.deepcopy(item)
    removals: list[Path] = []
    for action, value in zip(actions, values, strict=True):
        if action.clause == "SET":
            assert value is not None
            _set(after, action.path, value)
        elif action.clause == "REMOVE":
            removals.append(action.path)
        elif action.clause == "ADD":
            assert value is not None
            _add(after, action.path, value)
        else:
            assert value is not None
            _delete(after, action.path, value)
    # Highest list index first, so that removing a[1] and a[3] removes the original elements.
    for path in sorted(removals, key=lambda p: [(-x if isinstance(x, int) else 0) for x in p]):
        _remove(after, path)
    return after


def _container(item: Item, path: Path) -> tuple[Any, str | int]:
    """The dict or list holding ``path``'s last step, and that step."""
    holder: Any = item
    for part in path[:-1]:
        if isinstance(holder, dict):
            child = holder.get(part) if isinstance(part, str) else None
        else:
            child = _index(holder, part)
        if child is None:
            raise _invalid_path()
        holder = _descend(child)
        if holder is None:
            raise _invalid_path()
    last = path[-1]
    if isinstance(last, int) != isinstance(holder, list):
        raise _invalid_path()
    return holder, last


def _index(holder: Any, part: str | int) -> Any:
    if isinstance(holder, list) and isinstance(part, int):
        return holder[part] if part < len(holder) else None
    return None


def _descend(value: Value) -> Any:
    if "M" in value:
        return value["M"]
    if "L" in value:
        return value["L"]
    return None


def _set(item: Item, path: Path, value: Value) -> None:
    holder, last = _container(item, path)
    if isinstance(holder, list):
        assert isinstance(last, int)
        if last < len(holder):
            holder[last] = value
        else:
            holder.append(value)
    else:
        holder[last] = value


def _remove(item: Item, path: Path) -> None:
    try:
        holder, last = _container(item, path)
    except Exception:
        return  # removing what is not there changes nothing
    if isinstance(holder, list):
        assert isinstance(last, int)
        if last < len(holder):
            del holder[last]
    else:
        holder.pop(last, None)


def _add(item: Item, path: Path, value: Value) -> None:
    (kind,) = value
    if kind != "N" and kind not in SETS:
        raise invalid(
            f"Invalid {_KIND}: Incorrect operand type for operator or function; operator: ADD, "
            f"operand type: {_type_name(kind)}"
        )
    current = resolve(item, path)
    if current is None:
        _set(item, path, value)
        return
    if kind == "N":
        if "N" not in current:
            raise _incorrect_type()
        _set(item, path, {"N": add(current["N"], value["N"])})
        return
    if kind not in current:
        raise _incorrect_type()
    members = list(current[kind])
    seen = {_key(kind, m) for m in members}
    for m in value[kind]:
        if _key(kind, m) not in seen:
            members.append(m)
            seen.add(_key(kind, m))
    _set(item, path, {kind: members})


def _delete(item: Item, path: Path, value: Value) -> None:
    (kind,) = value
    if kind not in SETS:
        raise invalid(
            f"Invalid {_KIND}: Incorrect operand type for operator or function; operator: "
            f"DELETE, operand type: {_type_name(kind)}"
        )
    current = resolve(item, path)
    if current is None:
        return
    if kind not in current:
        raise _incorrect_type()
    gone = {_key(kind, m) for m in value[kind]}
    members = [m for m in current[kind] if _key(kind, m) not in gone]
    if members:
        _set(item, path, {kind: members})
    else:
        _remove(item, path)


def _key(kind: str, member: Any) -> Any:
    return number(member) if kind == "NS" else member


def _type_name(kind: str) -> str:
    return {
        "S": "STRING",
        "N": "NUMBER",
        "B": "BINARY",
        "BOOL": "BOOLEAN",
        "NULL": "NULL",
        "M": "MAP",
        "L": "LIST",
    }.get(kind, kind)
