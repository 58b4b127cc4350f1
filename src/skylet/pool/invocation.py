"""The values a pool's parts pass each other: one invocation on its way to an instance, and
what an instance's failed init reports."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from skylet.wire.invocation import Deliver, InvokeRequest, RawOutcome


@dataclass(slots=True, eq=False)
class Invocation:
    """One invocation on its way through a pool, until its outcome is delivered.

    ``deliver`` is called exactly once (never for an invocation given back: it is delivered
    where it runs next). An answer read from the instance is delivered at once, once the
    instance is ready for more, so that a caller may place its next invocation from inside
    ``deliver``; a failure (a timeout, a crash, a retirement) is delivered on the loop's next
    turn, after the instance is torn down. A caller that awaits wants
    :func:`skylet.wire.invocation.resolving`."""

    request: InvokeRequest
    timeout_s: float
    deliver: Deliver
    on_done: Callable[[], None] | None  # once the instance is done with it (not if bounced)
    cold: bool = False
    seq: int = 0  # numbers its frames on the instance it was written to
    not_after: float | None = None  # monotonic; set when written behind a running invocation
    #: Its first instance's init timed out: the next init runs within its own timeout (Lambda's
    #: "suppressed init"), and its Duration includes that init.
    suppressed_init: bool = False


@dataclass(frozen=True, slots=True)
class InitFailure:
    """An instance whose init failed: raised (``error``, with Lambda's error type and message)
    or did not finish within its limit (``timeout``). ``output`` is what the init printed, when
    no invocation's log carries it."""

    status: Literal["error", "timeout"]
    init_ms: float
    error_type: str
    message: str
    output: bytes = b""


def refuse(
    invocation: Invocation, message: str = "Runtime exited without providing a reason"
) -> None:
    """Fail an invocation that did not run and has nowhere else to run (delivered on the loop's
    next turn, as every failure is)."""
    outcome = RawOutcome("exited", message=message)
    asyncio.get_running_loop().call_soon(invocation.deliver, outcome)
    if invocation.on_done is not None:
        invocation.on_done()
