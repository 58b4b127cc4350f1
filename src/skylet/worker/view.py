"""What a function's sandbox sees of the filesystem: the plan (pure), from what must be hidden
and what must be visible.

The host's tree is seen read-only, except what is *hidden* (an empty, read-only tmpfs over a
directory, ``/dev/null`` over a file): the platform's data directory, the project and every
function's code, the platform user's home. What is *revealed* is seen again inside a hidden
directory, bound read-only at its own path: the function's own code and dependencies, the
Python runtime. The deepest entry above a path decides whether it is seen; a path both hidden
and revealed is revealed (a function's code directory is often the project's).

A directory the sandbox's user may not traverse (mode without ``o+x``, when that user is not
the platform's) on the way to a revealed path is hidden too, so that the path is reached
through the tmpfs: ``/tmp/pytest-of-root`` (0700) holding a test's project, ``/root`` holding
the interpreter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Literal, NamedTuple


class Op(NamedTuple):
    """One mount of the plan, in order: ``hide`` a path, or ``reveal`` one inside a hidden
    directory (the mount points it needs are made in that directory's tmpfs)."""

    kind: Literal["hide", "reveal"]
    path: str


def plan(
    hide: Iterable[str], reveal: Iterable[str], *, closed: Callable[[str], bool] = lambda _: False
) -> list[Op]:
    """The mounts that make ``hide`` unseen and ``reveal`` seen, shallowest first. ``closed``:
    whether the sandbox's user may not traverse a directory (asked of the ancestors of revealed
    paths only). Absolute paths; ``/`` is never hidden."""
    shown = {_normal(p) for p in reveal}
    hidden = {_normal(p) for p in hide}
    for path in shown:
        hidden.update(a for a in _ancestors(path) if closed(a))
    decisions = {p: "hide" for p in hidden} | {p: "reveal" for p in shown}
    decisions.pop("/", None)
    ops: list[Op] = []
    for path in sorted(decisions, key=lambda p: (p.count("/"), p)):
        seen_above = _seen(path, decisions)
        kind = decisions[path]
        if kind == "reveal" and not seen_above:
            ops.append(Op("reveal", path))
        elif kind == "hide" and seen_above:
            ops.append(Op("hide", path))
    return ops


def seen(path: str, ops: Iterable[Op]) -> bool:
    """Whether ``path`` is seen once ``ops`` are applied."""
    decisions = {op.path: op.kind for op in ops}
    normal = _normal(path)
    if normal in decisions:
        return decisions[normal] == "reveal"
    return _seen(normal, decisions)


def within(path: str, top: str) -> bool:
    """Whether ``path`` is ``top`` or below it."""
    return PurePosixPath(_normal(path)).is_relative_to(_normal(top))


def outermost(paths: Iterable[str]) -> list[str]:
    """``paths`` without those below another of them."""
    ordered = sorted({_normal(p) for p in paths}, key=lambda p: (p.count("/"), p))
    kept: list[str] = []
    for path in ordered:
        if not any(within(path, k) for k in kept):
            kept.append(path)
    return kept


def _seen(path: str, decisions: Mapping[str, str]) -> bool:
    """Whether ``path`` is seen by the decision of its nearest ancestor (none: seen)."""
    for ancestor in reversed(_ancestors(path)):
        if ancestor in decisions:
            return decisions[ancestor] == "reveal"
    return True


def _ancestors(path: str) -> list[str]:
    """The proper ancestors of ``path``, ``/`` excluded, shallowest first."""
    parents = list(PurePosixPath(path).parents)[:-1]
    return [str(p) for p in reversed(parents)]


def _normal(path: str) -> str:
    normal = PurePosixPath(path)
    if not normal.is_absolute():
        raise ValueError(f"{path!r} is not an absolute path")
    return str(normal)
