"""A connection's next deadline on one loop timer at most.

Moving a deadline later costs an assignment: the timer, when it fires early, arms itself again
for the deadline then in force. Only a deadline earlier than the armed timer re-arms it (after
an upload, going idle: keep-alive's 5 s is sooner than the body's 60 s). A request served
between two reads of the same connection touches the timer not at all: under load a connection
arms about one timer per keep-alive period, never one per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: A timer may run this much before its time (the loop's clock resolution): as good as due.
_EARLY_S = 0.001


class Deadline:
    """``due`` (loop time) or None; ``expired`` is called once ``due`` has passed (it may set a
    new one)."""

    __slots__ = ("_at", "_expired", "_handle", "_loop", "due")

    def __init__(self, loop: asyncio.AbstractEventLoop, expired: Callable[[], None]) -> None:
        self._loop = loop
        self._expired = expired
        self._handle: asyncio.TimerHandle | None = None
        self._at = 0.0  # when the armed timer fires
        self.due: float | None = None

    def set(self, due: float) -> None:
        self.due = due
        handle = self._handle
        if handle is None:
            self._arm(due)
        elif due < self._at:
            handle.cancel()
            self._arm(due)

    def after(self, seconds: float) -> None:
        """Due ``seconds`` from now."""
        self.set(self._loop.time() + seconds)

    def clear(self) -> None:
        """No deadline (the armed timer, if any, fires and finds none)."""
        self.due = None

    def cancel(self) -> None:
        """No deadline and no timer: the connection is gone."""
        self.due = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self, at: float) -> None:
        self._at = at
        self._handle = self._loop.call_at(at, self._fire)

    def _fire(self) -> None:
        self._handle = None
        due = self.due
        if due is None:
            return
        if self._loop.time() < due - _EARLY_S:
            self._arm(due)
            return
        self.due = None
        self._expired()
