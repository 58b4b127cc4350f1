"""Cross-cutting policy around invocations (metrics, tracing, console lines) as small hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from skylet.config import FunctionConfig
from skylet.invoker.report import Report


@dataclass(frozen=True, slots=True)
class InvocationRecord:
    function: str
    request_id: str
    started: float  # epoch seconds
    cold: bool
    error_type: str | None
    report: Report


class InvocationHook(Protocol):
    def completed(self, record: InvocationRecord) -> None: ...

    def throttled(self, fn: FunctionConfig) -> None: ...
