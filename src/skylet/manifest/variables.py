"""Resolve Serverless Framework variables in a loaded manifest.

Sources: ``self:`` (any path in the same document, resolved recursively, cycles reported),
``opt:`` (CLI options), ``env:`` (the environment the caller passes in; nothing here reads
``os.environ``), ``sls:stage``, ``aws:region`` / ``aws:accountId``, ``param:`` (the ``params``
section), ``file(path):address`` and ``strToBool(...)``. Sources that need AWS (``ssm``, ``s3``,
``cf`` …) are unavailable: their fallback is used, and without one they are an error.

Semantics, as in the Serverless Framework:

- A value that is exactly one variable keeps the referenced value's type (a number, a mapping);
  variables embedded in a string are stringified as JavaScript would (``true``, ``1``).
- Fallbacks are tried left to right: ``${opt:stage, self:provider.stage, 'dev'}``. A source
  misses when the option / variable / path is absent or null.
- The stage is the CLI stage, else ``provider.stage``, else ``dev``; ``${self:provider.stage}``,
  ``${opt:stage}`` and ``${sls:stage}`` all see that resolved stage. Region likewise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skylet import arns
from skylet.config import DEFAULT_REGION
from skylet.errors import ConfigError
from skylet.manifest.diagnostics import KeyPath, Source, format_path, show
from skylet.manifest.frozen import scalar_text
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.variable_syntax import (
    Template,
    Variable,
    VariableSyntaxError,
    literal_value,
    parse_template,
)

LOCAL_ACCOUNT_ID = arns.ACCOUNT_ID
"""The AWS account id skylet reports for ``${aws:accountId}`` and in local ARNs."""

_UNAVAILABLE = frozenset({"ssm", "s3", "cf", "git", "doppler", "terraform", "vault"})
_SOURCES = ("self", "opt", "env", "sls", "aws", "param", "file", "strToBool")
# Deeper chains than this are certainly a mistake, and Python's stack is finite.
_MAX_DEPTH = 200


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class VariableContext:
    """Everything outside the document that variables may read."""

    root: Path
    stage_path: KeyPath
    region_path: KeyPath
    options: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    cli_stage: str | None = None
    cli_region: str | None = None
    default_stage: str = "dev"
    default_region: str = DEFAULT_REGION


def resolve_variables(data: dict[str, Any], source: Source, context: VariableContext) -> Any:
    """Return a copy of ``data`` with every variable resolved (intrinsics' arguments included).

    Raises ConfigError naming the file, line and key path of an unresolvable variable, a
    malformed one, a cycle, or an unknown source.
    """
    resolver = _Resolver(data, source, context)
    try:
        return resolver.at(())
    except RecursionError as exc:
        raise ConfigError(f"{source.file.name}: variables nest too deeply") from exc


class _Resolver:
    def __init__(self, data: dict[str, Any], source: Source, context: VariableContext) -> None:
        self._root = data
        self._source = source
        self._context = context
        self._done: dict[tuple[str, ...], Any] = {}
        self._active: list[tuple[tuple[str, ...], KeyPath]] = []
        self._files: dict[Path, Any] = {}
        self._handlers: dict[str, Callable[[str | None, str | None, KeyPath, list[str]], Any]] = {
            "self": self._self,
            "opt": self._opt,
            "env": self._env,
            "sls": self._sls,
            "aws": self._aws,
            "param": self._param,
            "file": self._file,
            "strToBool": self._str_to_bool,
        }

    # -- the document tree ------------------------------------------------------------------

    def at(self, path: KeyPath) -> Any:
        """The fully resolved value at ``path`` in the document, or MISSING."""
        context = self._context
        if path == context.stage_path and context.cli_stage is not None:
            return context.cli_stage
        if path == context.region_path and context.cli_region is not None:
            return context.cli_region
        key = tuple(str(p) for p in path)
        if key in self._done:
            return self._done[key]
        if any(active == key for active, _ in self._active):
            chain = [typed for active, typed in self._active[self._index(key) :]]
            text = " → ".join(format_path(p) for p in [*chain, chain[0]])
            raise self._source.error(chain[-1], f"variable cycle: {text}")
        if len(self._active) > _MAX_DEPTH:
            raise self._source.error(path, "variables nest too deeply")
        found, raw, typed = self._raw(path)
        if not found:
            if path == context.stage_path:
                return context.default_stage
            if path == context.region_path:
                return context.default_region
            return MISSING
        if found == "resolved":
            return raw
        self._active.append((key, typed))
        try:
            value = self._tree_value(raw, typed)
        finally:
            self._active.pop()
        self._done[key] = value
        return value

    def _index(self, key: tuple[str, ...]) -> int:
        return next(i for i, (active, _) in enumerate(self._active) if active == key)

    def _raw(self, path: KeyPath) -> tuple[str, Any, KeyPath]:
        """Find ``path`` in the raw tree: ("raw", node, typed path), ("resolved", value, path)
        when an ancestor is a variable (its value is resolved whole), or ("", None, path)."""
        node: Any = self._root
        typed: list[str | int] = []
        for i, part in enumerate(path):
            if isinstance(node, str) and self._parse(node, tuple(typed)).has_variables:
                value = _navigate(self.at(tuple(typed)), path[i:])
                return ("resolved" if value is not MISSING else ""), value, path
            node, step = _child(node, part)
            if node is MISSING:
                return "", None, path
            typed.append(step)
        return "raw", node, tuple(typed)

    def _tree_value(self, raw: Any, path: KeyPath) -> Any:
        if isinstance(raw, str):
            return self._string(raw, path)
        if isinstance(raw, dict):
            return {k: self.at((*path, k)) for k in raw}
        if isinstance(raw, list):
            return [self.at((*path, i)) for i in range(len(raw))]
        if isinstance(raw, Intrinsic):
            return Intrinsic(raw.fn, tuple(self._detached(a, path) for a in raw.args))
        return raw

    def _detached(self, value: Any, path: KeyPath) -> Any:
        """Resolve data that is not addressable by ``self:`` (intrinsic args, file contents)."""
        if isinstance(value, str):
            return self._string(value, path)
        if isinstance(value, dict):
            return {k: self._detached(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self._detached(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, Intrinsic):
            return Intrinsic(value.fn, tuple(self._detached(a, path) for a in value.args))
        return value

    # -- strings and variables --------------------------------------------------------------

    def _parse(self, text: str, path: KeyPath) -> Template:
        try:
            return parse_template(text)
        except VariableSyntaxError as exc:
            raise self._source.error(path, f"malformed variable: {exc}") from exc

    def _string(self, text: str, path: KeyPath) -> Any:
        template = self._parse(text, path)
        if not template.has_variables:
            return text
        if template.whole is not None:
            return self._require(template.whole, path)
        out: list[str] = []
        for piece in template.pieces:
            if isinstance(piece, str):
                out.append(piece)
            else:
                out.append(self._embed(self._require(piece, path), piece, path))
        return "".join(out)

    def _embed(self, value: Any, variable: Variable, path: KeyPath) -> str:
        if isinstance(value, str | int | float | bool):
            return scalar_text(value)
        raise self._source.error(
            path,
            f"{variable.text} resolves to {show(value)}, which cannot be embedded in a string "
            "(allowed: a string, number or boolean)",
        )

    def _require(self, variable: Variable, path: KeyPath) -> Any:
        reasons: list[str] = []
        value = self._try(variable, path, reasons)
        if value is MISSING:
            why = "; ".join(dict.fromkeys(reasons)) or "it resolves to nothing"
            raise self._source.error(
                path,
                f"cannot resolve {variable.text}: {why}, and it has no default "
                f"(allowed: give a default, e.g. ${{{_first(variable)}, 'value'}})",
            )
        return value

    def _try(self, variable: Variable, path: KeyPath, reasons: list[str]) -> Any:
        for index, param in enumerate(variable.params):
            value = self._evaluate(param, path, reasons, fallback=index > 0)
            if value is not MISSING:
                return value
        return MISSING

    def _evaluate(
        self,
        param: tuple[str | Variable, ...],
        path: KeyPath,
        reasons: list[str],
        *,
        fallback: bool,
    ) -> Any:
        if len(param) == 1 and isinstance(param[0], Variable):
            return self._try(param[0], path, reasons)
        parts: list[str] = []
        for piece in param:
            if isinstance(piece, str):
                parts.append(piece)
                continue
            value = self._try(piece, path, reasons)
            if value is MISSING:
                return MISSING
            parts.append(self._embed(value, piece, path))
        text = "".join(parts)
        if fallback:
            is_literal, value = literal_value(text)
            if is_literal:
                return value
        return self._reference(text, path, reasons, fallback=fallback)

    def _reference(self, text: str, path: KeyPath, reasons: list[str], *, fallback: bool) -> Any:
        name, paren, rest = text.partition("(")
        if paren:
            arg, closing, after = rest.rpartition(")")
            if not closing or (after and not after.startswith(":")):
                raise self._source.error(path, f"malformed variable reference {text!r}")
            address: str | None = after[1:] if after else None
        else:
            name, colon, tail = text.partition(":")
            if not colon:
                what = "default" if fallback else "variable reference"
                raise self._source.error(
                    path,
                    f"{what} {text!r} is not valid (allowed: a quoted string, a number, "
                    "true, false, null, or a variable such as self:custom.key)",
                )
            arg, address = None, tail
        name = name.strip()
        if name in _UNAVAILABLE:
            reasons.append(f"variable source {name!r} is not available in skylet")
            return MISSING
        handler = self._handlers.get(name)
        if handler is None:
            raise self._source.error(
                path, f"unknown variable source {name!r} (allowed: {', '.join(_SOURCES)})"
            )
        value = handler(arg, address, path, reasons)
        if value is None:
            reasons.append(f"{text} is null")
            return MISSING
        return value

    # -- sources ----------------------------------------------------------------------------

    def _self(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        parts = tuple(p.strip() for p in address.split(".")) if address else ()
        if any(not p for p in parts):
            raise self._source.error(path, f"malformed self reference 'self:{address}'")
        value = self.at(parts)
        if value is MISSING:
            why.append(f"{format_path(parts)} does not exist in {self._source.file.name}")
        return value

    def _opt(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        name = (address or "").strip()
        if name == "stage" and self._context.cli_stage is not None:
            return self._context.cli_stage
        if name in self._context.options:
            return self._context.options[name]
        why.append(f"CLI option --{name} was not given")
        return MISSING

    def _env(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        name = (address or "").strip()
        if name in self._context.env:
            return self._context.env[name]
        why.append(f"environment variable {name} is not set")
        return MISSING

    def _sls(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        if (address or "").strip() != "stage":
            raise self._source.error(path, f"unknown sls variable {address!r} (allowed: stage)")
        return self.at(self._context.stage_path)

    def _aws(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        name = (address or "").strip()
        if name == "region":
            return self.at(self._context.region_path)
        if name == "accountId":
            return LOCAL_ACCOUNT_ID
        raise self._source.error(
            path, f"unknown aws variable {address!r} (allowed: region, accountId)"
        )

    def _param(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        name = (address or "").strip()
        stage = self.at(self._context.stage_path)
        for scope in (str(stage), "default"):
            value = self.at(("params", scope, name))
            if value is not MISSING:
                return value
        why.append(f"parameter {name!r} is not in params.{stage} or params.default")
        return MISSING

    def _file(self, arg: str | None, address: str | None, path: KeyPath, why: list[str]) -> Any:
        from skylet.manifest.yaml_loader import load_yaml  # yaml_loader is the heavier import

        target = (self._context.root / (arg or "").strip()).resolve()
        if target.suffix not in (".yml", ".yaml", ".json"):
            raise self._source.error(
                path, f"file {arg!r} cannot be read (allowed: .yml, .yaml or .json files)"
            )
        if target not in self._files:
            if not target.is_file():
                why.append(f"file {arg} does not exist")
                return MISSING
            self._files[target] = load_yaml(target)[0]
        parts = tuple(p.strip() for p in address.split(".")) if address else ()
        value = _navigate(self._files[target], parts)
        if value is MISSING:
            why.append(f"{format_path(parts)} does not exist in {arg}")
            return MISSING
        return self._detached(value, path)

    def _str_to_bool(
        self, arg: str | None, address: str | None, path: KeyPath, why: list[str]
    ) -> Any:
        text = (arg or "").strip()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise self._source.error(
            path, f"strToBool({text}) is not a boolean string (allowed: true, false, 1, 0)"
        )


def _first(variable: Variable) -> str:
    first = variable.params[0]
    return "".join(p if isinstance(p, str) else p.text for p in first)


def _child(node: Any, part: str | int) -> tuple[Any, str | int]:
    if isinstance(node, dict):
        key = str(part)
        return (node[key], key) if key in node else (MISSING, key)
    if isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
        return node[int(part)], int(part)
    return MISSING, part


def _navigate(value: Any, path: KeyPath) -> Any:
    for part in path:
        if value is MISSING:
            return MISSING
        value, _ = _child(value, part)
    return value
