"""Knative's delivery decisions: retried response codes, backoff, durations."""

from __future__ import annotations

import pytest

from skylet.eventing.policy import NO_RESPONSE, Policy, duration_s, retryable


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, False),
        (202, False),
        (204, False),
        (301, False),
        (100, False),
        (400, False),
        (401, False),
        (403, False),
        (413, False),
        (404, True),
        (408, True),
        (409, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (NO_RESPONSE, True),
        (600, True),
    ],
    ids=lambda v: str(v),
)
def test_the_codes_knative_retries(status: int, expected: bool) -> None:
    assert retryable(status) is expected


def test_exponential_backoff_doubles_from_twice_the_delay() -> None:
    policy = Policy(retry=3, backoff="exponential", delay_s=0.2)
    assert [policy.wait_s(n) for n in (1, 2, 3, 4)] == [0.4, 0.8, 1.6, None]


def test_linear_backoff_grows_by_the_delay() -> None:
    policy = Policy(retry=2, backoff="linear", delay_s=0.5)
    assert [policy.wait_s(n) for n in (1, 2, 3)] == [0.5, 1.0, None]


def test_no_retries_gives_up_after_the_first_try() -> None:
    assert Policy(retry=0).wait_s(1) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT0.2S", 0.2), ("PT2M", 120), ("PT1H30M", 5400), ("P1D", 86400), ("P1DT1S", 86401)],
)
def test_iso_8601_durations(text: str, seconds: float) -> None:
    assert duration_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "P", "PT", "1S", "PT-1S", "PT1.S"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        duration_s(text)


@pytest.mark.parametrize(
    ("status", "asked", "cap", "expected"),
    [
        (429, 5.0, 3.0, 3.0),
        (503, 1.0, 10.0, 1.0),
        (429, 0.1, 10.0, 0.4),
        (500, 5.0, 10.0, 0.4),
        (429, 5.0, None, 0.4),
        (429, None, 10.0, 0.4),
    ],
    ids=[
        "a 429's Retry-After is capped by retryAfterMax",
        "a 503's Retry-After longer than the backoff is waited",
        "a Retry-After shorter than the backoff changes nothing",
        "a 500's Retry-After is not honoured",
        "without retryAfterMax Retry-After is ignored",
        "a 429 without Retry-After waits the backoff",
    ],
)
def test_retry_after(status: int, asked: float | None, cap: float | None, expected: float) -> None:
    policy = Policy(retry=3, delay_s=0.2, retry_after_max_s=cap)
    assert policy.wait_s(1, status=status, retry_after_s=asked) == pytest.approx(expected)


def test_retry_after_headers_in_seconds_or_as_a_date() -> None:
    from skylet.eventing.subscribers import retry_after

    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after("soon") is None and retry_after(None) is None
