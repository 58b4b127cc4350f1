"""XML for the query and rest-xml protocols: a hardened parse, shape-directed reading (rest-xml
request bodies) and writing (query and rest-xml responses). Pure.

Parsing uses the standard library's expat (no extra dependency): a document type declaration
or an entity declaration is refused outright (no entity expansion, no external entities),
elements nest at most ``MAX_DEPTH`` deep, and namespace prefixes are dropped (the services
match local names). Writing builds the text directly, in the model's member order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat
from xml.sax.saxutils import escape, quoteattr

from botocore.model import ListShape, MapShape, Shape, StructureShape

from skylet.aws.protocols import values
from skylet.aws.protocols.types import MAX_DEPTH, Params, Refused

_TEXT_ESCAPES = {"\r": "&#13;"}


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def parse(body: bytes) -> Element:
    """The document's root element; Refused("malformed") for anything but plain XML."""
    builder = TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True
    depth = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise Refused("malformed", f"The XML nests elements deeper than {MAX_DEPTH} levels")
        kept = {_local(k): v for k, v in attributes.items() if not k.startswith("xmlns")}
        builder.start(_local(name), kept)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(_local(name))

    def refuse(*_: object) -> None:
        raise Refused("malformed", "The XML may not declare a document type or entities")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(body, True)
        return builder.close()
    except (expat.ExpatError, ValueError, AssertionError):
        raise Refused("malformed", "The XML you provided was not well-formed") from None


# --- reading ---------------------------------------------------------------------------------


def _key(member: Shape, name: str) -> str:
    """The element name a member is read from; a flattened list with a named member repeats
    that name."""
    if member.type_name == "list" and member.serialization.get("flattened"):
        assert isinstance(member, ListShape)
        named = member.member.serialization.get("name")
        if named:
            return str(named)
    return str(member.serialization.get("name", name))


def read_structure(shape: StructureShape, node: Element, where: str, depth: int = 0) -> Params:
    """A structure's members from an element (members bound elsewhere are skipped)."""
    children: dict[str, list[Element]] = {}
    for child in node:
        children.setdefault(child.tag, []).append(child)
    result: Params = {}
    for name, member in shape.members.items():
        if "location" in member.serialization:
            continue
        wire = _key(member, name)
        path = f"{where}.{wire}" if where else wire
        if member.serialization.get("xmlAttribute"):
            if wire in node.attrib:
                result[name] = values.scalar_from_text(
                    member, node.attrib[wire], path, values.ISO8601
                )
            continue
        found = children.get(wire)
        if not found:
            continue
        if member.type_name in ("list", "map") and member.serialization.get("flattened"):
            result[name] = _read_collection(member, found, path, depth + 1)
        else:
            result[name] = read(member, found[0], path, depth + 1)
    for name in shape.required_members:
        member = shape.members[name]
        if name not in result and "location" not in member.serialization:
            raise values.missing(_key(member, name))
    return result


def read(shape: Shape, node: Element, where: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise Refused("malformed", f"The XML nests values deeper than {MAX_DEPTH} levels")
    if isinstance(shape, StructureShape):
        return read_structure(shape, node, where, depth)
    if shape.type_name in ("list", "map"):
        return _read_collection(shape, list(node), where, depth)
    return values.scalar_from_text(shape, node.text or "", where, values.ISO8601)


def _read_collection(shape: Shape, items: list[Element], where: str, depth: int) -> Any:
    """A list from its item elements, a map from its entry elements."""
    if isinstance(shape, ListShape):
        return [
            read(shape.member, item, f"{where}.{i}", depth + 1) for i, item in enumerate(items, 1)
        ]
    assert isinstance(shape, MapShape)
    key_name = shape.key.serialization.get("name", "key")
    value_name = shape.value.serialization.get("name", "value")
    result: dict[str, Any] = {}
    for entry in items:
        key_node, value_node = entry.find(key_name), entry.find(value_name)
        if key_node is None or value_node is None:
            raise values.invalid(
                where, entry.tag, f"Each entry needs a {key_name} and a {value_name}"
            )
        key = values.scalar_from_text(shape.key, key_node.text or "", where, values.ISO8601)
        result[key] = read(shape.value, value_node, f"{where}.{key}", depth + 1)
    return result


# --- writing ---------------------------------------------------------------------------------


def namespace_attribute(shape: Shape | None, fallback: str | None = None) -> str:
    """`` xmlns="…"`` (or ``xmlns:prefix``) for an element of the shape, or the fallback's."""
    declared: Any = shape.serialization.get("xmlNamespace") if shape is not None else None
    if declared is None:
        return f" xmlns={quoteattr(fallback)}" if fallback else ""
    if isinstance(declared, Mapping):
        prefix = declared.get("prefix")
        return f" xmlns{':' + prefix if prefix else ''}={quoteattr(declared['uri'])}"
    return f" xmlns={quoteattr(str(declared))}"


def text(value: str) -> str:
    return escape(value, _TEXT_ESCAPES)


def write_members(shape: StructureShape, result: Mapping[str, Any], out: list[str]) -> None:
    """A structure's members (not its attributes, nor members bound to headers) as elements."""
    unknown = set(result) - set(shape.members)
    if unknown:
        raise TypeError(f"{shape.name} has no member {sorted(unknown)[0]!r}")
    for name, member in shape.members.items():
        value = result.get(name)
        if value is None or "location" in member.serialization:
            continue
        if member.serialization.get("xmlAttribute"):
            continue
        write(member, str(member.serialization.get("name", name)), value, out)


def attributes(shape: StructureShape, result: Mapping[str, Any]) -> str:
    parts = []
    for name, member in shape.members.items():
        if member.serialization.get("xmlAttribute") and result.get(name) is not None:
            wire = member.serialization.get("name", name)
            parts.append(
                f" {wire}={quoteattr(values.text_of(member, result[name], values.ISO8601))}"
            )
    return "".join(parts)


def write(shape: Shape, name: str, value: Any, out: list[str], head: str = "") -> None:
    """One member as its element(s); ``head`` is extra attribute text for the element."""
    if isinstance(shape, StructureShape):
        out.append(f"<{name}{head}{attributes(shape, value)}>")
        write_members(shape, value, out)
        out.append(f"</{name}>")
    elif isinstance(shape, ListShape):
        flattened = shape.serialization.get("flattened")
        item = shape.member.serialization.get("name", name if flattened else "member")
        if not flattened:
            out.append(f"<{name}{head}>")
        for element in value:
            write(shape.member, item, element, out)
        if not flattened:
            out.append(f"</{name}>")
    elif isinstance(shape, MapShape):
        flattened = shape.serialization.get("flattened")
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        if not flattened:
            out.append(f"<{name}{head}>")
        for key, element in value.items():
            out.append(f"<{name}>" if flattened else "<entry>")
            write(shape.key, key_name, key, out)
            write(shape.value, value_name, element, out)
            out.append(f"</{name}>" if flattened else "</entry>")
        if not flattened:
            out.append(f"</{name}>")
    else:
        out.append(f"<{name}{head}>{text(values.text_of(shape, value, values.ISO8601))}</{name}>")
