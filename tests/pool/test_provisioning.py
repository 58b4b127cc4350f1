"""The pure provisioning rules: a function's state after a failed init, and when a provisioned
instance that died is replaced."""

from __future__ import annotations

import pytest

from skylet.pool.invocation import InitFailure
from skylet.pool.provisioning import (
    MAX_INIT_FAILURES,
    FunctionState,
    failed,
    replacement_delay_s,
)


@pytest.mark.parametrize(
    ("init_failures", "young_deaths", "delay"),
    [
        (0, 0, 0.0),
        (0, 1, 1.0),
        (1, 1, 1.0),
        (2, 2, 2.0),
        (4, 4, 8.0),
        (0, 10, 30.0),
        (MAX_INIT_FAILURES, MAX_INIT_FAILURES, None),
        (MAX_INIT_FAILURES + 3, 0, None),
    ],
    ids=[
        "one_that_served_is_replaced_at_once",
        "one_that_died_young_waits_a_second",
        "a_failed_init_waits_a_second",
        "the_wait_doubles",
        "and_doubles_again",
        "the_wait_is_capped_at_30_s",
        "after_five_failed_inits_in_a_row_nothing_more_starts",
        "however_many_deaths_follow",
    ],
)
def test_replacement_delay(init_failures: int, young_deaths: int, delay: float | None) -> None:
    assert replacement_delay_s(init_failures, young_deaths) == delay


@pytest.mark.parametrize(
    ("failure", "state"),
    [
        (
            InitFailure("error", 3.0, "Runtime.ImportModuleError", "Unable to import module 'm'"),
            FunctionState(
                "Failed", "Runtime.ImportModuleError: Unable to import module 'm'", "FunctionError"
            ),
        ),
        (
            InitFailure("timeout", 10.0, "Sandbox.Timedout", "Init timed out after 10.00 seconds"),
            FunctionState(
                "Failed",
                "Sandbox.Timedout: Init timed out after 10.00 seconds",
                "FunctionError.InitTimeout",
            ),
        ),
    ],
    ids=["an_init_error_is_a_function_error", "an_init_timeout_is_its_own_reason_code"],
)
def test_a_failed_init_fails_the_function_with_lambdas_reason(
    failure: InitFailure, state: FunctionState
) -> None:
    assert failed(failure) == state
