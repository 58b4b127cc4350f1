"""Lambda's retry policy as pure decisions: tables of cases, the clock passed in."""

from __future__ import annotations

import pytest

from skylet.config import AsyncConfig
from skylet.errors import (
    ConfigError,
    InvalidRequestContent,
    PlatformError,
    ResourceNotFound,
    StoreUnavailable,
    TooManyRequests,
)
from skylet.events.retry import (
    Decision,
    Failure,
    Retry,
    RetryPolicy,
    Settle,
    after_invoke,
    before_invoke,
    classify,
    throttle_delay,
)

LAMBDA = RetryPolicy()
T0 = 1_700_000_000.0


@pytest.mark.parametrize(
    ("function_error", "error", "expected"),
    [
        pytest.param(None, None, None, id="a result without an error is a success"),
        pytest.param("Unhandled", None, "function", id="an Unhandled result is a function error"),
        pytest.param(
            None, TooManyRequests("Rate Exceeded."), "throttled", id="a 429 is a throttle"
        ),
        pytest.param(None, PlatformError("zygote died"), "system", id="a platform failure"),
        pytest.param(
            None, StoreUnavailable("down"), "system", id="a store outage is a system error"
        ),
        pytest.param(None, ResourceNotFound("gone"), "system", id="a function missing mid-deploy"),
        pytest.param(None, InvalidRequestContent("bad"), "rejected", id="a payload refused"),
    ],
)
def test_classify_maps_what_the_invoker_says_to_a_failure_kind(
    function_error: str | None, error: BaseException | None, expected: Failure | None
) -> None:
    assert classify(function_error, error) == expected


def test_classify_refuses_an_exception_skylet_did_not_raise() -> None:
    with pytest.raises(TypeError):
        classify(None, RuntimeError("bug"))


def decide(
    failure: Failure | None,
    *,
    runs: int = 1,
    deferrals: int = 0,
    age_s: float = 0.0,
    retries: int = 2,
    max_age_s: float = 21_600.0,
    reserved: int | None = None,
    jitter: float = 1.0,
) -> Decision:
    return after_invoke(
        failure,
        enqueued_at=T0,
        now=T0 + age_s,
        runs=runs,
        deferrals=deferrals,
        config=AsyncConfig(maximum_retry_attempts=retries, maximum_event_age_s=max_age_s),
        policy=LAMBDA,
        reserved_concurrency=reserved,
        jitter=jitter,
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        pytest.param({"failure": None}, Settle("Success"), id="a success settles as Success"),
        pytest.param({"failure": "function"}, Retry(60.0), id="first error waits a minute"),
        pytest.param({"failure": "function", "runs": 2}, Retry(120.0), id="second waits two"),
        pytest.param(
            {"failure": "function", "runs": 3},
            Settle("RetriesExhausted"),
            id="third error exhausts the default two retries",
        ),
        pytest.param(
            {"failure": "function", "retries": 0},
            Settle("RetriesExhausted"),
            id="no retries: the first error is final",
        ),
        pytest.param(
            {"failure": "function", "runs": 2, "retries": 1},
            Settle("RetriesExhausted"),
            id="one retry: the second error is final",
        ),
        pytest.param(
            {"failure": "function", "age_s": 30.0, "max_age_s": 60.0},
            Settle("EventAgeExceeded"),
            id="a retry that would start past the maximum age is decided now",
        ),
        pytest.param(
            {"failure": "function", "age_s": 0.0, "max_age_s": 60.0},
            Retry(60.0),
            id="a retry starting exactly at the maximum age still runs",
        ),
        pytest.param({"failure": "throttled"}, Retry(1.0), id="first throttle waits a second"),
        pytest.param(
            {"failure": "throttled", "deferrals": 3}, Retry(8.0), id="throttles back off doubling"
        ),
        pytest.param(
            {"failure": "throttled", "deferrals": 12},
            Retry(300.0),
            id="throttle backoff stops at five minutes",
        ),
        pytest.param(
            {"failure": "throttled", "deferrals": 40, "runs": 0},
            Retry(300.0),
            id="throttles never exhaust the retry attempts",
        ),
        pytest.param(
            {"failure": "throttled", "age_s": 21_500.0, "deferrals": 8},
            Settle("EventAgeExceeded"),
            id="throttles are retried until the maximum age, then discarded",
        ),
        pytest.param(
            {"failure": "throttled", "reserved": 0},
            Settle("RetriesExhausted"),
            id="a function with reserved concurrency 0 gives its events up at once",
        ),
        pytest.param(
            {"failure": "throttled", "reserved": 1},
            Retry(1.0),
            id="a saturated reservation is retried",
        ),
        pytest.param({"failure": "system", "deferrals": 1}, Retry(2.0), id="system errors too"),
        pytest.param(
            {"failure": "rejected"}, Settle("RetriesExhausted"), id="a refused payload is final"
        ),
        pytest.param(
            {"failure": "throttled", "jitter": 0.0}, Retry(0.5), id="jitter halves at most"
        ),
    ],
)
def test_after_invoke_follows_lambdas_retry_policy(
    kwargs: dict[str, object], expected: Decision
) -> None:
    assert decide(**kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("age_s", "max_age_s", "expected"),
    [
        pytest.param(59.0, 60.0, None, id="a young event is tried"),
        pytest.param(60.0, 60.0, None, id="an event exactly at its maximum age is tried"),
        pytest.param(61.0, 60.0, Settle("EventAgeExceeded"), id="an older one is discarded"),
        pytest.param(21_601.0, 21_600.0, Settle("EventAgeExceeded"), id="six hours by default"),
    ],
)
def test_before_invoke_discards_events_past_their_maximum_age(
    age_s: float, max_age_s: float, expected: Settle | None
) -> None:
    config = AsyncConfig(maximum_event_age_s=max_age_s)
    assert before_invoke(T0, T0 + age_s, config) == expected


@pytest.mark.parametrize(
    ("deferrals", "jitter", "expected"),
    [
        pytest.param(0, 1.0, 1.0, id="one second first"),
        pytest.param(8, 1.0, 256.0, id="256 s after eight"),
        pytest.param(9, 1.0, 300.0, id="capped at 300 s"),
        pytest.param(5000, 1.0, 300.0, id="no overflow after thousands"),
        pytest.param(2, 0.5, 3.0, id="jitter scales into the upper half"),
        pytest.param(2, 7.0, 4.0, id="jitter above one is clamped"),
    ],
)
def test_throttle_delay_doubles_from_one_second_to_five_minutes(
    deferrals: int, jitter: float, expected: float
) -> None:
    assert throttle_delay(deferrals, LAMBDA, jitter) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"function_error_delays_s": ()}, id="no delay after a function error"),
        pytest.param({"function_error_delays_s": (60.0, 901.0)}, id="past the store's delay"),
        pytest.param({"throttle_first_s": -1.0}, id="a negative wait"),
    ],
)
def test_retry_policy_refuses_waits_the_queue_cannot_hold(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="retry delays"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
