"""The query protocol's request: form parameters (``Action=SendMessage&QueueUrl=…``) read by
the input shape. Pure.

Names are paths: a structure's member by its wire name (``MessageAttribute.1.Value.StringValue``),
a list's items as ``Name.member.N`` (``Name.N`` when flattened, with the list member's own wire
name if it has one: ``AttributeName.1``), a map's entries as ``Name.entry.N.key`` and
``….value`` (``Name.N.key`` when flattened, with the key's and value's wire names:
``Attribute.1.Name``).
The parameters are first folded into a tree by their dotted names, so reading is linear in
their number whatever the shape; indices are sorted, never used to size anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from skylet.aws.protocols import values
from skylet.aws.protocols.types import MAX_DEPTH, Params, Refused


@dataclass(slots=True)
class Node:
    value: str | None = None
    children: dict[str, Node] = field(default_factory=dict)


def fold(pairs: list[tuple[str, str]]) -> Node:
    """The parameters as a tree of their dotted names (a repeated name: the last value)."""
    root = Node()
    for name, value in pairs:
        parts = name.split(".")
        if len(parts) > MAX_DEPTH:
            raise Refused("malformed", f"The parameter names nest deeper than {MAX_DEPTH} levels")
        node = root
        for part in parts:
            node = node.children.setdefault(part, Node())
        node.value = value
    return root


def member_key(member: Shape, name: str) -> str:
    """The name a member's parameters start with."""
    if isinstance(member, ListShape) and member.serialization.get("flattened"):
        named = member.member.serialization.get("name")
        if named:
            return str(named)
    return str(member.serialization.get("name", name))


def read_structure(shape: StructureShape, node: Node, where: str = "", depth: int = 0) -> Params:
    if depth > MAX_DEPTH:
        raise Refused("malformed", f"The parameters nest deeper than {MAX_DEPTH} levels")
    result: Params = {}
    for name, member in shape.members.items():
        key = member_key(member, name)
        child = node.children.get(key)
        if child is not None:
            result[name] = read(member, child, f"{where}.{key}" if where else key, depth + 1)
        elif isinstance(member, ListShape):
            # An empty list is ``Name=``, under the member's own name even when its items
            # carry another (``AttributeNames=``, not ``AttributeName=``).
            empty = node.children.get(str(member.serialization.get("name", name)))
            if empty is not None and not empty.children and empty.value == "":
                result[name] = []
    for name in shape.required_members:
        if name not in result:
            key = member_key(shape.members[name], name)
            raise values.missing(f"{where}.{key}" if where else key)
    return result


def read(shape: Shape, node: Node, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise Refused("malformed", f"The parameters nest deeper than {MAX_DEPTH} levels")
    if isinstance(shape, StructureShape):
        return read_structure(shape, node, where, depth)
    if isinstance(shape, ListShape):
        items = (
            node
            if shape.serialization.get("flattened")
            else node.children.get(shape.member.serialization.get("name", "member"), Node())
        )
        return [
            read(shape.member, item, f"{where}.{index}", depth + 1)
            for index, item in _indexed(items, where)
        ]
    if isinstance(shape, MapShape):
        entries = (
            node if shape.serialization.get("flattened") else node.children.get("entry", Node())
        )
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        result: dict[str, Any] = {}
        for index, entry in _indexed(entries, where):
            key_node, value_node = entry.children.get(key_name), entry.children.get(value_name)
            if key_node is None or key_node.value is None or value_node is None:
                raise values.missing(
                    f"{where}.{index}.{key_name if key_node is None else value_name}"
                )
            key = values.scalar_from_text(shape.key, key_node.value, where, values.ISO8601)
            result[key] = read(shape.value, value_node, f"{where}.{index}.{value_name}", depth + 1)
        return result
    if node.value is None:
        raise values.invalid(where, "(parameters under it)", f"Member must be a {shape.type_name}")
    return values.scalar_from_text(shape, node.value, where, values.ISO8601)


def _indexed(node: Node, where: str) -> list[tuple[int, Node]]:
    found = []
    for label, child in node.children.items():
        if not (label.isascii() and label.isdigit() and len(label) <= 9) or int(label) < 1:
            raise values.invalid(f"{where}.{label}", label, "Member must be indexed from 1")
        found.append((int(label), child))
    found.sort(key=lambda pair: pair[0])
    return found
