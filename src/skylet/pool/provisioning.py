"""A function's state, in Lambda's vocabulary, and when a provisioned instance that died is
replaced. Pure.

``State`` and ``StateReasonCode`` are Lambda's (botocore's service model for GetFunction):
``Pending``/``Creating`` while provisioned instances initialise for the first time, ``Active``,
and ``Failed`` with ``FunctionError`` (the init raised: ``Runtime.ImportModuleError`` …) or
``FunctionError.InitTimeout``. Unlike Lambda's Pending, a pending function is invoked: its
invocations run on demand meanwhile, as those beyond provisioned concurrency do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from skylet.pool.backoff import backoff_s
from skylet.pool.invocation import InitFailure

State = Literal["Pending", "Active", "Failed"]

#: Provisioned inits that may fail in a row before the function stays Failed without trying
#: again, until its code changes (a redeploy) or an invocation's own init succeeds.
MAX_INIT_FAILURES = 5
#: Back-off between provisioned starts after instances that died young: 1 s, doubling, ≤ 30 s.
RETRY_FIRST_S = 1.0
RETRY_CAP_S = 30.0
#: A provisioned instance that dies within this long of its init counts as dying young.
YOUNG_S = 1.0


@dataclass(frozen=True, slots=True)
class FunctionState:
    state: State
    reason: str | None = None
    reason_code: str | None = None


ACTIVE = FunctionState("Active")
CREATING = FunctionState("Pending", "Provisioned instances are initialising.", "Creating")


def failed(failure: InitFailure) -> FunctionState:
    """The state of a function whose init failed so: its error type and message as the reason."""
    code = "FunctionError.InitTimeout" if failure.status == "timeout" else "FunctionError"
    return FunctionState("Failed", f"{failure.error_type}: {failure.message}", code)


def replacement_delay_s(init_failures: int, young_deaths: int) -> float | None:
    """How long to wait before starting a provisioned instance in place of one that died:
    at once after one that served a while, with back-off while instances die young
    (``young_deaths`` in a row, the failed inits among them); None, no more starts, once
    ``init_failures`` inits in a row failed ``MAX_INIT_FAILURES`` times."""
    if init_failures >= MAX_INIT_FAILURES:
        return None
    return backoff_s(young_deaths, first_s=RETRY_FIRST_S, cap_s=RETRY_CAP_S)
