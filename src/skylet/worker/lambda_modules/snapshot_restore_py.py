"""Lambda SnapStart's runtime hooks, with the API of AWS's ``snapshot-restore-py`` package
(which Lambda's Python runtime ships), for functions to import where it is not installed: the
runtime finds this copy last on the path, so an installed one wins.

``register_before_snapshot(func, *args, **kwargs)`` and ``register_after_restore(…)`` record
``func`` with its arguments, and return it, so both also decorate. ``get_before_snapshot()``
and ``get_after_restore()`` return the records, ``(func, args, kwargs)`` in the order they were
registered; the runtime runs the first in reverse order before the snapshot, the second in
order after each restore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Hook = tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]

_before_snapshot: list[Hook] = []
_after_restore: list[Hook] = []


def register_before_snapshot(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _before_snapshot.append((func, args, kwargs))
    return func


def register_after_restore(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    _after_restore.append((func, args, kwargs))
    return func


def get_before_snapshot() -> list[Hook]:
    return _before_snapshot


def get_after_restore() -> list[Hook]:
    return _after_restore
