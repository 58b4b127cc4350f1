"""The stream mapping's decisions after a failed batch, as tables of cases."""

from __future__ import annotations

import pytest

from skylet.aws.dynamodb.stream_policy import (
    Decision,
    Next,
    Window,
    after_error,
    failed_from,
    lane_of,
    same_window,
    window_of,
)

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("records", "errors", "age_s", "bisect", "max_retries", "max_age_s", "expected"),
    [
        pytest.param(4, 1, 0, True, 0, -1, Decision(Next.SPLIT), id="bisect splits a batch"),
        pytest.param(1, 1, 0, True, 2, -1, Decision(Next.RETRY), id="one record is retried"),
        pytest.param(
            1,
            3,
            0,
            True,
            2,
            -1,
            Decision(Next.GIVE_UP, "RetryAttemptsExhausted"),
            id="past its retries one record goes to the destination",
        ),
        pytest.param(
            5, 1000, 0, False, -1, -1, Decision(Next.RETRY), id="without limits it blocks"
        ),
        pytest.param(
            5,
            1,
            61,
            False,
            -1,
            60,
            Decision(Next.GIVE_UP, "RecordAgeExceeded"),
            id="a record past its age is given up even with bisect",
        ),
        pytest.param(5, 1, 59, False, -1, 60, Decision(Next.RETRY), id="young records retry"),
    ],
)
def test_after_error(
    records: int,
    errors: int,
    age_s: float,
    bisect: bool,
    max_retries: int,
    max_age_s: int,
    expected: Decision,
) -> None:
    decision = after_error(
        records=records,
        errors=errors,
        oldest_created_at=NOW - age_s,
        bisect=bisect,
        max_retries=max_retries,
        max_age_s=max_age_s,
        now=NOW,
    )
    assert decision == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(None, 3, id="no answer is success"),
        pytest.param({"batchItemFailures": []}, 3, id="an empty list is success"),
        pytest.param(
            {"batchItemFailures": [{"itemIdentifier": "3"}, {"itemIdentifier": "2"}]},
            1,
            id="the retry starts at the lowest reported record",
        ),
        pytest.param(
            {"batchItemFailures": [{"itemIdentifier": "9"}]}, None, id="unknown ids fail all"
        ),
        pytest.param({"batchItemFailures": [{}]}, None, id="a missing id fails all"),
    ],
)
def test_failed_from(response: object, expected: int | None) -> None:
    assert failed_from(response, ["1", "2", "3"]) == expected


def test_one_items_records_always_go_to_one_lane_and_keys_spread() -> None:
    keys = [f'{{"id": {{"S": "k{i}"}}}}'.encode() for i in range(200)]
    lanes = [lane_of(k, 4) for k in keys]
    assert lanes == [lane_of(k, 4) for k in keys]  # stable: no per-process salt
    assert all(30 <= lanes.count(n) <= 70 for n in range(4))
    assert {lane_of(k, 1) for k in keys} == {0}


@pytest.mark.parametrize(
    ("created", "size", "window"),
    [
        pytest.param(1_700_000_000.0, 30, Window(1_699_999_980, 1_700_000_010), id="aligned"),
        pytest.param(1_700_000_010.0, 30, Window(1_700_000_010, 1_700_000_040), id="at start"),
        pytest.param(1_700_000_009.9, 30, Window(1_699_999_980, 1_700_000_010), id="before end"),
        pytest.param(61.0, 60, Window(60, 120), id="a minute"),
    ],
)
def test_windows_are_aligned_to_the_epoch(created: float, size: int, window: Window) -> None:
    assert window_of(created, size) == window


@pytest.mark.parametrize(
    ("created", "count"),
    [
        pytest.param([], 0, id="nothing"),
        pytest.param([0.0, 1.0, 9.9], 3, id="one window"),
        pytest.param([0.0, 5.0, 10.0, 11.0], 2, id="cut at the boundary"),
        pytest.param([12.0, 25.0], 1, id="the next window starts a batch of its own"),
    ],
)
def test_a_batch_never_spans_two_windows(created: list[float], count: int) -> None:
    assert same_window(created, 10) == count
