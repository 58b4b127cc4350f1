"""What a rule's target receives: the event itself, ``Input``, ``InputPath`` or an
``InputTransformer`` (EventBridge's three ways to reshape it). Pure.

- ``Input``: a constant JSON text, sent as it is.
- ``InputPath``: a JSONPath (``$``, ``$.detail``, ``$.detail.items[0]``, ``$['detail-type']``)
  picking part of the event; a path that matches nothing sends nothing (``null``).
- ``InputTransformer``: ``InputPathsMap`` names values by path; ``InputTemplate`` places them:
  ``<name>`` inside a JSON string inserts the value's text (a string unquoted, anything else as
  JSON), outside a string inserts its JSON; a name whose path matched nothing gives ``null``
  (empty inside a string). ``<aws.events.rule-arn>``, ``<aws.events.rule-name>``,
  ``<aws.events.event>`` and ``<aws.events.event.ingestion-time>`` are predefined.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skylet.manifest.frozen import thaw

_STEP = re.compile(r"\.([A-Za-z0-9_$@-]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_MISSING = object()


class InputError(ValueError):
    """A path or template EventBridge would refuse at PutTargets."""


@dataclass(frozen=True, slots=True)
class TargetInput:
    """One target's input configuration, checked when built (``compile``)."""

    constant: str | None = None
    path: str | None = None
    paths_map: Mapping[str, str] | None = None
    template: str | None = None

    @classmethod
    def compile(
        cls,
        *,
        input: Any = None,
        input_path: str | None = None,
        transformer: Mapping[str, Any] | None = None,
    ) -> TargetInput:
        """From a manifest's ``input``/``inputPath``/``inputTransformer`` (``input`` a string
        of JSON or any JSON value) or the API's ``Input``/``InputPath``/``InputTransformer``."""
        if sum(x is not None for x in (input, input_path, transformer)) > 1:
            raise InputError("give only one of Input, InputPath and InputTransformer")
        if input is not None:
            text = input if isinstance(input, str) else json.dumps(thaw(input))
            try:
                json.loads(text)
            except ValueError as error:
                raise InputError(f"Input is not valid JSON: {error}") from None
            return cls(constant=text)
        if input_path is not None:
            _steps(input_path)
            return cls(path=input_path)
        if transformer is not None:
            paths = dict(transformer.get("inputPathsMap") or transformer.get("InputPathsMap") or {})
            template = transformer.get("inputTemplate") or transformer.get("InputTemplate")
            if not isinstance(template, str):
                raise InputError("InputTransformer needs an InputTemplate string")
            for name, path in paths.items():
                if name.startswith("aws."):
                    raise InputError(f"InputPathsMap key {name!r} is reserved (aws.*)")
                _steps(str(path))
            return cls(paths_map={str(k): str(v) for k, v in paths.items()}, template=template)
        return cls()

    def render(self, event: Mapping[str, Any], *, rule_arn: str, rule_name: str) -> bytes:
        """The bytes the target gets for ``event``."""
        if self.constant is not None:
            return self.constant.encode()
        if self.path is not None:
            found = select(event, self.path)
            return json.dumps(None if found is _MISSING else found).encode()
        if self.template is None:
            return json.dumps(event).encode()
        values: dict[str, Any] = {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event": event,
            "aws.events.event.ingestion-time": event.get("time"),
        }
        for name, path in (self.paths_map or {}).items():
            values[name] = select(event, path)
        return _fill(self.template, values).encode()


def select(event: Any, path: str) -> Any:
    """The value at a JSONPath in ``event``, or ``_MISSING``."""
    value = event
    for key in _steps(path):
        if isinstance(key, int):
            if not isinstance(value, list) or key >= len(value):
                return _MISSING
            value = value[key]
        elif isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def _steps(path: str) -> list[str | int]:
    if not path.startswith("$"):
        raise InputError(f"{path!r} is not a JSONPath (it starts with '$')")
    steps: list[str | int] = []
    at = 1
    while at < len(path):
        match = _STEP.match(path, at)
        if match is None:
            raise InputError(f"{path!r} is not a JSONPath EventBridge reads (at {path[at:]!r})")
        dotted, index, single, double = match.groups()
        steps.append(int(index) if index is not None else (dotted or single or double or ""))
        at = match.end()
    return steps


def _fill(template: str, values: Mapping[str, Any]) -> str:
    out: list[str] = []
    in_string = False
    at = 0
    while at < len(template):
        char = template[at]
        if char == "\\" and in_string:
            out.append(template[at : at + 2])
            at += 2
            continue
        if char == '"':
            in_string = not in_string
        if char == "<":
            match = _PLACEHOLDER.match(template, at)
            if match and match.group(1) in values:
                value = values[match.group(1)]
                out.append(_inside(value) if in_string else _outside(value))
                at = match.end()
                continue
        out.append(char)
        at += 1
    return "".join(out)


def _inside(value: Any) -> str:
    if value is _MISSING or value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value)
    return json.dumps(text)[1:-1]  # escaped for its place inside a JSON string


def _outside(value: Any) -> str:
    return "null" if value is _MISSING else json.dumps(value)
