"""Coalescer: concurrent submissions to one key become one flush, in order."""

from __future__ import annotations

import asyncio

import pytest

from skylet.errors import StoreUnavailable
from skylet.events.batching import Coalescer

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.flushes: list[tuple[str, list[int]]] = []
        self.fail = fail

    async def __call__(self, key: str, items: list[int]) -> list[int]:
        self.flushes.append((key, list(items)))
        await asyncio.sleep(0.01)
        if self.fail:
            raise StoreUnavailable("down")
        return [item * 10 for item in items]


async def test_submissions_made_together_are_flushed_together_per_key() -> None:
    flush = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(flush)

    results = await asyncio.gather(
        *(coalescer.submit("a", n) for n in range(5)), coalescer.submit("b", 7)
    )

    assert results == [0, 10, 20, 30, 40, 70]
    assert sorted(flush.flushes) == [("a", [0, 1, 2, 3, 4]), ("b", [7])]


async def test_items_arriving_during_a_flush_form_the_next_batch_in_order() -> None:
    flush = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(flush)
    first = asyncio.ensure_future(coalescer.submit("a", 1))
    await asyncio.sleep(0.001)  # the first flush is running now
    rest = await asyncio.gather(*(coalescer.submit_many("a", [n, n + 1]) for n in (2, 4)))

    assert await first == 10
    assert rest == [[20, 30], [40, 50]]
    assert flush.flushes == [("a", [1]), ("a", [2, 3, 4, 5])]


async def test_a_batch_takes_whole_submissions_up_to_max_items() -> None:
    flush = Recorder()
    coalescer: Coalescer[str, int, int] = Coalescer(flush, max_items=3)

    results = await asyncio.gather(
        *(coalescer.submit_many("a", [n, n]) for n in range(4)), coalescer.submit_many("a", [9] * 7)
    )

    assert [len(items) for _, items in flush.flushes] == [4, 4, 7]
    assert results == [[n * 10, n * 10] for n in range(4)] + [[90] * 7]


async def test_a_failed_flush_fails_every_submitter_of_that_batch() -> None:
    coalescer: Coalescer[str, int, int] = Coalescer(Recorder(fail=True))

    outcomes = await asyncio.gather(
        coalescer.submit("a", 1), coalescer.submit("a", 2), return_exceptions=True
    )

    assert all(isinstance(o, StoreUnavailable) for o in outcomes)
    assert await coalescer.submit_many("a", []) == []
