"""Archived entries as CloudWatch Logs events, and GetLogEvents' pages and tokens. Pure."""

from __future__ import annotations

import pytest

from skylet.aws.logs.events import (
    backward_token,
    forward_token,
    log_events,
    page,
    read_token,
    streams,
    within,
)
from skylet.observe.archive import StoredEntry

STREAM_A = "2026/12/08/[$LATEST]" + "a" * 32
STREAM_B = "2026/12/08/[$LATEST]" + "b" * 32


def entry(request_id: str, at: float, stream: str = STREAM_A) -> StoredEntry:
    text = f"START RequestId: {request_id}\nhello\n\nREPORT RequestId: {request_id}\n"
    return StoredEntry("fn", at, request_id, stream, "/aws/lambda/fn", text, at + 0.5)


def test_each_line_is_an_event_in_time_order_with_56_digit_ids() -> None:
    found = log_events([entry("r-2", 20.0, STREAM_B), entry("r-1", 10.0)])
    assert [e.message for e in found] == [
        "START RequestId: r-1",
        "hello",
        "REPORT RequestId: r-1",
        "START RequestId: r-2",
        "hello",
        "REPORT RequestId: r-2",
    ]
    assert all(len(e.event_id) == 56 and e.event_id.isdigit() for e in found)
    assert [e.timestamp_ms for e in found[:3]] == [10_000] * 3
    assert found[0].ingestion_ms == 10_500
    assert len({e.event_id for e in found}) == 6
    assert [(s.name, s.first_ms, s.last_ms) for s in streams(found)] == [
        (STREAM_A, 10_000, 10_000),
        (STREAM_B, 20_000, 20_000),
    ]


def test_start_time_is_inclusive_and_end_time_exclusive() -> None:
    first = log_events([entry("r-1", 10.0)])[0]
    assert within(first, 10_000, None) and within(first, None, 10_001)
    assert not within(first, 10_001, None) and not within(first, None, 10_000)


EVENTS = log_events([entry(f"r-{n}", float(n)) for n in range(1, 4)])  # nine events


@pytest.mark.parametrize(
    ("head", "token", "limit", "shown", "forward", "backward"),
    [
        pytest.param(False, None, 2, [7, 8], 9, 7, id="without a token the last page"),
        pytest.param(True, None, 2, [0, 1], 2, 0, id="from the head the first page"),
        pytest.param(False, ("f", 2), 3, [2, 3, 4], 5, 2, id="forward from a position"),
        pytest.param(False, ("b", 5), 3, [2, 3, 4], 5, 2, id="backward before a position"),
        pytest.param(False, ("f", 9), 3, [], 9, 9, id="at the end the forward token stays"),
        pytest.param(False, ("b", 0), 3, [], 0, 0, id="at the start the backward token stays"),
        pytest.param(True, None, 50, list(range(9)), 9, 0, id="everything on one page"),
    ],
)
def test_get_log_events_pages(
    head: bool,
    token: tuple[str, int] | None,
    limit: int,
    shown: list[int],
    forward: int,
    backward: int,
) -> None:
    found = page(EVENTS, limit=limit, start_from_head=head, token=token)
    assert list(found.events) == [EVENTS[i] for i in shown]
    assert (found.forward, found.backward) == (forward_token(forward), backward_token(backward))


def test_tokens_read_back_and_others_are_refused() -> None:
    assert read_token(forward_token(12)) == ("f", 12)
    assert read_token(backward_token(0)) == ("b", 0)
    assert read_token("x/12") is None and read_token("f/") is None
