"""An instance's output pipe, split per invocation by the markers the instance writes."""

from __future__ import annotations

import asyncio
import os

import pytest

from skylet.pool.channel import OutputReader

pytestmark = pytest.mark.anyio

MARKER = b"\x00\x1emarker\x1e\x00"


async def _reader(cap: int = 1 << 20) -> tuple[OutputReader, int]:
    read_fd, write_fd = os.pipe()
    return OutputReader(asyncio.get_running_loop(), read_fd, cap, MARKER), write_fd


async def test_marked_output_is_split_at_each_marker_even_across_reads() -> None:
    reader, fd = await _reader()
    os.write(fd, b"first\n" + MARKER[:4])
    reader.drain()
    os.write(fd, MARKER[4:] + b"second\n" + MARKER + b"third, still running")
    assert reader.take(marked=True, last=False) == (b"first\n", 0)
    assert reader.take(marked=True, last=False) == (b"second\n", 0)
    # The third invocation's output so far belongs to nobody yet...
    assert reader.take(marked=False, last=False) == (b"", 0)
    os.write(fd, b"\n" + MARKER)
    assert reader.take(marked=True, last=True) == (b"third, still running\n", 0)
    reader.close()
    os.close(fd)


async def test_unmarked_output_goes_to_the_last_invocation() -> None:
    reader, fd = await _reader()
    os.write(fd, b"from a child process\n")
    reader.drain()
    assert reader.take(marked=False, last=True) == (b"from a child process\n", 0)
    assert reader.take(marked=False, last=True) == (b"", 0)
    reader.close()
    os.close(fd)


async def test_each_invocation_keeps_at_most_the_cap_and_counts_the_rest() -> None:
    reader, fd = await _reader(cap=4)
    os.write(fd, b"0123456789" + MARKER + b"ab" + MARKER)
    assert reader.take(marked=True, last=False) == (b"0123", 6)
    assert reader.take(marked=True, last=True) == (b"ab", 0)
    reader.close()
    os.close(fd)
