"""A safe YAML loader that remembers the line of every key and understands CloudFormation tags.

``load_yaml`` returns plain data (dict, list, str, int, float, bool, None and ``Intrinsic``) and
a ``Source`` mapping each key path to its 1-based line. It is built on ``yaml.SafeLoader``: no
arbitrary Python objects can be constructed. Differences from ``yaml.safe_load``, each on purpose:

- ``!Ref``, ``!GetAtt`` … (see ``intrinsics.SHORT_TAGS``) become ``Intrinsic`` values; any other
  local tag is an error naming the allowed ones.
- Duplicate keys are an error (``safe_load`` silently keeps the last one, hiding typos).
- Mapping keys are always strings: the key's text as written (``200:`` -> ``"200"``).
- Unquoted dates stay strings: manifest data stays JSON-like.
- Nesting is limited to ``MAX_DEPTH`` levels (aliases expanded), so a hostile or broken file is a
  manifest error naming the file and line rather than a RecursionError.
- Booleans and integers follow YAML 1.2, as the Serverless Framework's parser does: only
  ``true``/``false`` are booleans (``off``, ``yes`` stay strings), ``1e3`` is a number and
  ``1:30`` or ``0755`` are not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from skylet.errors import ConfigError
from skylet.manifest.diagnostics import KeyPath, Source
from skylet.manifest.intrinsics import SHORT_TAGS, IntrinsicError, normalize_tree, pack

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_REPLACED_TAGS = (_TIMESTAMP_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Alias expansion can make a small file describe an enormous tree ("billion laughs").
_MAX_NODES = 200_000
MAX_DEPTH = 100
"""Mappings and sequences nest at most this deep. Real manifests stay under 20 levels; every
later stage (variables, intrinsics, validation) recurses once per level, so the bound keeps them
far from Python's recursion limit (1000 frames)."""


class LineLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation short tags, string keys and duplicate-key detection."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # PyYAML composes recursively: count the levels while they are read.
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(None, None, _too_deep(), mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Node, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping, found {type(node).__name__}", node.start_mark
            )
        seen: dict[str, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key_text(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first defined on line {seen[key]})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        self.flatten_mapping(node)
        return {
            _key_text(key_node): self.construct_object(value_node, deep=deep)
            for key_node, value_node in node.value
        }


def _too_deep() -> str:
    return f"the document nests deeper than {MAX_DEPTH} levels (allowed: at most {MAX_DEPTH})"


def _key_text(node: Node) -> str:
    if not isinstance(node, ScalarNode) or node.tag.startswith("!"):
        raise yaml.constructor.ConstructorError(
            None, None, "a mapping key must be a plain string", node.start_mark
        )
    return str(node.value)


def _intrinsic_constructor(fn: str) -> Any:
    def construct(loader: LineLoader, node: Node) -> Any:
        if isinstance(node, ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
            # A mapping is one argument (`!Sub` never takes one alone, but `!Base64 {...}` may).
            return pack(fn, [value])
        return pack(fn, value)

    return construct


def _unknown_tag(loader: LineLoader, suffix: str, node: Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"unknown YAML tag {node.tag} (allowed: {', '.join(SHORT_TAGS)})",
        node.start_mark,
    )


LineLoader.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
LineLoader.add_implicit_resolver(
    _INT_TAG,
    re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
LineLoader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|\.[0-9]+
        |[0-9][0-9_]*[eE][-+]?[0-9]+|\.(?:inf|Inf|INF))|\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
for _tag, _fn in SHORT_TAGS.items():
    LineLoader.add_constructor(_tag, _intrinsic_constructor(_fn))
LineLoader.add_multi_constructor("!", _unknown_tag)


def load_yaml(path: Path) -> tuple[Any, Source]:
    """Parse ``path``; return its data (None for an empty file) and its ``Source``.

    Raises ConfigError for an unreadable file, a YAML syntax error, a duplicate key, an unknown
    tag or a malformed intrinsic, naming the file and line.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the file: {exc}") from exc
    loader = LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, Source(path, {})
        lines = _line_map(path, node)  # first: it bounds what aliases expand to
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{exc.context}: {problem}"
        if "alias" in problem or "'?'" in problem:
            # `schedule: */5 * * * *` or `{schedule: cron(0 8 ? * MON *)}`: a leading `*` starts
            # an alias and, inside {...}, `?` a complex key.
            problem += " (put values such as cron expressions that contain '*' or '?' in quotes)"
        raise ConfigError(f"{path.name}:{line}: {problem}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}:1: invalid YAML: {exc}") from exc
    finally:
        loader.dispose()
    source = Source(path, lines)
    try:
        return normalize_tree(data), source
    except IntrinsicError as exc:
        raise source.error(exc.path, exc.message) from exc


def _line_map(path: Path, root: Node) -> dict[KeyPath, int]:
    """Map every key path (and sequence item) under ``root`` to its 1-based line, checking the
    tree as aliases expand it: its size, its depth, and aliases that contain themselves."""
    lines: dict[KeyPath, int] = {(): root.start_mark.line + 1}
    visited = 0
    on_stack: set[int] = set()

    def walk(node: Node, at: KeyPath | None) -> None:
        nonlocal visited
        visited += 1
        line = node.start_mark.line + 1
        if visited > _MAX_NODES:
            raise ConfigError(f"{path.name}: the document expands to more than {_MAX_NODES} nodes")
        if id(node) in on_stack:
            raise ConfigError(f"{path.name}:{line}: a YAML alias refers to itself")
        if len(on_stack) >= MAX_DEPTH:  # an alias inside an alias: deeper than written
            raise ConfigError(f"{path.name}:{line}: {_too_deep()}")
        if node.tag.startswith("!"):
            at = None  # intrinsic arguments are not addressable key paths
        on_stack.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                child = None if at is None else (*at, _key_text(key_node))
                if child is not None:
                    lines[child] = key_node.start_mark.line + 1
                walk(value_node, child)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                child = None if at is None else (*at, index)
                if child is not None:
                    lines[child] = item.start_mark.line + 1
                walk(item, child)
        on_stack.discard(id(node))

    walk(root, ())
    return lines
