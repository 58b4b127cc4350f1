"""The stream mapping's decisions after a failed batch, as tables of cases."""

from __future__ import annotations

import pytest

from skylet.aws.dynamodb.stream_policy import Decision, Next, after_error, failed_from

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
