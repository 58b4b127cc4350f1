"""Lambda's concurrency admission as a table of cases."""

from __future__ import annotations

import pytest

from skylet.invoker.admission import ACCOUNT_LIMIT, RESERVED_LIMIT, Load, throttle_reason


@pytest.mark.parametrize(
    ("load", "reserved", "limit", "reserved_total", "expected"),
    [
        (Load(0, 0), None, 1000, 0, None),
        (Load(999, 999), None, 1000, 0, None),
        (Load(1000, 1000), None, 1000, 0, ACCOUNT_LIMIT),
        (Load(5, 850), None, 1000, 150, ACCOUNT_LIMIT),
        (Load(1, 849), None, 1000, 150, None),
        (Load(1, 0), 2, 1000, 2, None),
        (Load(2, 0), 2, 1000, 2, RESERVED_LIMIT),
        (Load(0, 0), 0, 1000, 0, RESERVED_LIMIT),
        (Load(3, 1000), 5, 1000, 5, None),
    ],
    ids=[
        "an_idle_platform_admits",
        "one_below_the_platform_limit_admits",
        "at_the_platform_limit_throttles",
        "reservations_shrink_what_unreserved_functions_share",
        "below_the_unreserved_share_admits",
        "below_the_reservation_admits",
        "at_the_reservation_throttles",
        "a_reservation_of_zero_disables_the_function",
        "a_reserved_function_runs_even_when_unreserved_ones_are_saturated",
    ],
)
def test_throttle_reason(
    load: Load, reserved: int | None, limit: int, reserved_total: int, expected: str | None
) -> None:
    assert (
        throttle_reason(
            load, reserved=reserved, platform_limit=limit, reserved_total=reserved_total
        )
        == expected
    )
