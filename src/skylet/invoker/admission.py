"""Lambda's concurrency rules as a pure decision.

A function with reserved concurrency may run at most that many invocations at once (0 disables
it). Functions without a reservation share what the platform-wide limit leaves after all
reservations: with a limit of 1000 and reservations of 100 and 50, unreserved functions share
850 between them.
"""

from __future__ import annotations

from typing import NamedTuple

RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


class Load(NamedTuple):
    function_in_flight: int
    unreserved_in_flight: int


def throttle_reason(
    load: Load, *, reserved: int | None, platform_limit: int, reserved_total: int
) -> str | None:
    """None when one more invocation may start, else the ``Reason`` of the 429."""
    if reserved is not None:
        return RESERVED_LIMIT if load.function_in_flight >= reserved else None
    if load.unreserved_in_flight >= platform_limit - reserved_total:
        return ACCOUNT_LIMIT
    return None
