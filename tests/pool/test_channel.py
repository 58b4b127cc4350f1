"""The channel's limits, on real pipes: what an instance writes is bounded before it is buffered."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from skylet.pool.channel import Channel, Refusal
from skylet.wire import frames
from skylet.wire.invocation import MAX_RESPONSE_BYTES

pytestmark = pytest.mark.anyio


@dataclass
class _Ends:
    channel: Channel
    writer: int  # the instance's end
    got: list[tuple[int, dict[str, Any], int]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    async def settle(self) -> None:
        for _ in range(200):
            await asyncio.sleep(0.005)
            if self.refused:
                return


@asynccontextmanager
async def _channel() -> AsyncIterator[_Ends]:
    read_end, writer = os.pipe()
    to_instance_r, to_instance_w = os.pipe()
    ends: _Ends

    def on_frame(kind: int, meta: dict[str, Any], body: bytes) -> None:
        ends.got.append((kind, meta, len(body)))

    channel = Channel(
        asyncio.get_running_loop(),
        read_end,
        to_instance_w,
        on_frame,
        lambda: None,
        max_body=MAX_RESPONSE_BYTES,
        max_frame=MAX_RESPONSE_BYTES + frames.META_ALLOWANCE,
        on_refused=lambda reason: ends.refused.append(reason),
    )
    ends = _Ends(channel, writer)
    try:
        yield ends
    finally:
        channel.close()
        os.close(writer)
        os.close(to_instance_r)


async def test_a_header_announcing_4_gb_is_refused_before_its_body_is_read() -> None:
    async with _channel() as ends:
        os.write(ends.writer, frames.HEADER.pack(frames.RESULT, 0, 0xFFFFFFFF) + b"x" * 1000)
        await ends.settle()
        assert ends.refused == ["too_large"]
        os.set_blocking(ends.writer, False)
        written = 0
        with pytest.raises(BlockingIOError):  # nobody reads the pipe any more
            while True:
                written += os.write(ends.writer, b"x" * 65536)
        assert written < 4 << 20  # the pipe filled up: the platform holds none of it


async def test_the_largest_legitimate_response_passes_and_one_byte_more_does_not() -> None:
    async with _channel() as ends:
        largest = frames.encode(frames.RESULT, {"seq": 1}, b"x" * MAX_RESPONSE_BYTES)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, os.write, ends.writer, largest)
        for _ in range(200):
            if ends.got:
                break
            await asyncio.sleep(0.005)
        assert ends.got == [(frames.RESULT, {"seq": 1}, MAX_RESPONSE_BYTES)]
        too_large = frames.HEADER.pack(frames.RESULT, 10, MAX_RESPONSE_BYTES + 1)
        os.write(ends.writer, too_large)
        await ends.settle()
        assert ends.refused == ["too_large"]


async def test_headers_may_add_the_meta_allowance_to_a_full_body_and_no_more() -> None:
    async with _channel() as ends:
        meta_len = frames.META_ALLOWANCE + 1
        os.write(ends.writer, frames.HEADER.pack(frames.RESULT, meta_len, MAX_RESPONSE_BYTES))
        await ends.settle()
        assert ends.refused == ["too_large"]


async def test_a_frame_whose_meta_is_not_a_json_object_stops_the_reading() -> None:
    async with _channel() as ends:
        os.write(ends.writer, frames.HEADER.pack(frames.RESULT, 5, 0) + b"[1,2]")
        os.write(ends.writer, frames.encode(frames.RESULT, {"seq": 2}))
        await ends.settle()
        assert ends.refused == ["malformed"]
        assert ends.got == []
