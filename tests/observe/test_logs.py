"""The log book's followers: each reads through a buffer bounded by entries and bytes, and one
that falls behind is dropped (its buffer emptied) rather than holding the platform's memory.
Pure logic: no sockets (the admin API's stream of it: tests/e2e/test_admin_api.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from skylet.observe.logs import LogBook

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class Line:
    function: str
    text: str
    timestamp: float = 0.0
    request_id: str = "r"

    @property
    def size(self) -> int:
        return len(self.text)


async def test_a_follower_that_reads_gets_every_new_entry_in_order() -> None:
    book = LogBook(follower_max_entries=2)
    with book.follow("f") as follower:
        got = []
        for n in range(10):
            book.add(Line("f", f"entry {n}"))
            got.append((await anext(follower)).text)
    assert got == [f"entry {n}" for n in range(10)]
    assert book.followers("f") == 0  # leaving it stops the following


@pytest.mark.parametrize(
    ("entries", "size", "added"),
    [(3, 1000, ["a", "b", "c", "d"]), (100, 10, ["aaaa", "bbbb", "cccc"])],
    ids=["more_entries_than_its_buffer_holds", "more_bytes_than_its_buffer_holds"],
)
async def test_a_follower_that_falls_behind_is_dropped_and_its_buffer_emptied(
    entries: int, size: int, added: list[str]
) -> None:
    book = LogBook(follower_max_entries=entries, follower_max_bytes=size)
    with book.follow("f") as lagging, book.follow("f") as reading:
        for text in added:
            book.add(Line("f", text))
            assert (await anext(reading)).text == text  # the one that reads keeps up
            assert len(lagging) <= entries and lagging.size <= size
        assert lagging.dropped and not reading.dropped
        assert (len(lagging), lagging.size) == (0, 0)
        assert [entry async for entry in lagging] == []  # its iteration ends
        await asyncio.wait_for(lagging.wait_dropped(), 1)
        assert book.followers("f") == 1


async def test_thousands_of_large_entries_never_grow_a_stalled_followers_buffer() -> None:
    book = LogBook(follower_max_entries=1000, follower_max_bytes=4 << 20)
    with book.follow("f") as stalled:
        peak = 0
        for _ in range(10_000):
            book.add(Line("f", "x" * 100_000))  # 1 GB offered in all
            peak = max(peak, stalled.size)
    assert stalled.dropped
    assert peak <= 4 << 20
