"""The instance handle's queue when the instance is killed: the invocation it ran fails, those
written behind it go back to the pool unrun, and one it may have begun fails rather than run
twice. The instance here is the test itself writing frames on real pipes, and a real process
standing in for its pid, so the race between an answer and the kill can be set up exactly."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.pool.instance import InstanceHandle
from skylet.pool.invocation import Invocation
from skylet.pool.zygote import Spare
from skylet.wire import frames
from skylet.wire.invocation import InvokeRequest, RawOutcome, resolving

pytestmark = pytest.mark.anyio


@dataclass
class _Zygote:
    """Hands out one spare made of the test's pipes; knows of no exits."""

    spare: Spare
    exits: dict[int, asyncio.Future[int]] = field(default_factory=dict)
    runtime_dir: str = "/opt/python"  # its interpreter's prefix

    def take_spare(self) -> asyncio.Future[Spare]:
        future: asyncio.Future[Spare] = asyncio.get_running_loop().create_future()
        future.set_result(self.spare)
        return future

    def exit_status(self, pid: int) -> asyncio.Future[int]:
        return self.exits.setdefault(pid, asyncio.get_running_loop().create_future())

    def died_with_zygote(self, pid: int) -> bool:
        return False


@dataclass
class _Instance:
    handle: InstanceHandle
    process: subprocess.Popen[bytes]
    to_platform: int  # the instance's end of its result pipe
    given_back: list[Invocation]

    def answer(self, kind: int, meta: dict[str, object], body: bytes = b"") -> None:
        os.write(self.to_platform, frames.encode(kind, meta, body))


@asynccontextmanager
async def _instance() -> AsyncIterator[_Instance]:
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    to_instance_r, to_instance_w = os.pipe()
    to_platform_r, to_platform_w = os.pipe()
    output_r, output_w = os.pipe()
    spare = Spare(process.pid, to_instance_w, to_platform_r, output_r)
    fn = FunctionConfig(name="f", handler="h.handler", code_dir=Path("/"), timeout_s=30.0)
    given_back: list[Invocation] = []
    handle = InstanceHandle(
        fn,
        RuntimeSettings(),
        _Zygote(spare),
        give_back=given_back.append,  # type: ignore[arg-type]
    )
    handle.start()
    instance = _Instance(handle, process, to_platform_w, given_back)
    instance.answer(frames.READY, {"init_ms": 1.0, "rss": 1000})
    try:
        yield instance
    finally:
        process.kill()
        process.wait()
        for fd in (to_instance_r, to_platform_w, output_w):
            os.close(fd)
        if handle.alive:
            handle.retire()


class _Tracked(Invocation):
    """An invocation whose outcome the test awaits."""

    __slots__ = ("future",)

    def __init__(self, n: int) -> None:
        self.future: asyncio.Future[RawOutcome] = asyncio.get_running_loop().create_future()
        request = InvokeRequest(f"request-{n}", b"{}", "arn:aws:lambda:us-east-1:0:function:f")
        super().__init__(request, 30.0, resolving(self.future), None)


def _invocation(n: int) -> _Tracked:
    return _Tracked(n)


async def _ready(instance: _Instance) -> None:
    for _ in range(100):
        if instance.handle.ready:
            return
        await asyncio.sleep(0.001)
    raise AssertionError("READY was not read")


async def test_a_kill_fails_the_running_invocation_and_gives_back_those_behind_it() -> None:
    async with _instance() as instance:
        await _ready(instance)
        running, behind, last = (_invocation(n) for n in range(3))
        for invocation in (running, behind, last):
            instance.handle.submit(invocation)
        instance.handle._fail_head(RawOutcome("timeout", duration_ms=30_000.0))
        outcome = await running.future
        assert instance.process.wait(5) == -9  # the whole group was killed
    assert outcome.kind == "timeout"
    assert instance.given_back == [behind, last]
    assert not behind.future.done() and not last.future.done()  # they run elsewhere


async def test_an_answer_just_before_the_kill_means_the_next_one_may_have_begun() -> None:
    async with _instance() as instance:
        await _ready(instance)
        running, behind, last = (_invocation(n) for n in range(3))
        for invocation in (running, behind, last):
            instance.handle.submit(invocation)
        # The instance answered the running invocation, unread yet when the platform decided
        # to kill it: the one behind may have started, so it must not run again elsewhere.
        instance.answer(frames.RESULT, {"seq": running.seq, "duration_ms": 1.0, "rss": 1000})
        instance.handle._fail_head(RawOutcome("timeout", duration_ms=30_000.0))
        first, second = await running.future, await behind.future
    assert first.kind == "timeout"
    assert second.kind == "exited"
    assert second.message == "Runtime exited with error: signal: killed"
    assert instance.given_back == [last]


async def test_answers_arrive_in_order_and_a_bounce_gives_the_invocation_back() -> None:
    async with _instance() as instance:
        await _ready(instance)
        first, bounced, third = (_invocation(n) for n in range(3))
        for invocation in (first, bounced, third):
            instance.handle.submit(invocation)
        assert [i.not_after is not None for i in instance.handle.queue] == [False, True, True]
        instance.answer(frames.RESULT, {"seq": first.seq, "duration_ms": 1.0, "rss": 1000}, b"1")
        instance.answer(frames.BOUNCED, {"seq": bounced.seq})
        instance.answer(frames.RESULT, {"seq": third.seq, "duration_ms": 1.0, "rss": 1000}, b"3")
        outcomes = [await first.future, await third.future]
        state = instance.handle.state
    assert [o.body for o in outcomes] == [b"1", b"3"]
    assert instance.given_back == [bounced] and not bounced.future.done()
    assert state == "idle"


async def test_an_answer_is_delivered_once_the_instance_is_ready_for_the_next() -> None:
    async with _instance() as instance:
        await _ready(instance)
        handle = instance.handle
        first = _invocation(0)
        seen: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
        # A caller that places its next invocation from inside ``deliver`` (the HTTP path
        # answering a pipelined request) finds the instance idle, its queue empty.
        first.deliver = lambda outcome: seen.set_result((handle.state, len(handle.queue)))
        handle.submit(first)
        instance.answer(frames.RESULT, {"seq": first.seq, "duration_ms": 1.0, "rss": 1000})
        assert await asyncio.wait_for(seen, 5) == ("idle", 0)


async def test_a_deliver_that_raises_does_not_stop_the_answers_after_it() -> None:
    async with _instance() as instance:
        await _ready(instance)
        broken, after = _invocation(0), _invocation(1)

        def deliver(outcome: RawOutcome) -> None:
            raise RuntimeError("the caller's bug")

        broken.deliver = deliver
        for invocation in (broken, after):
            instance.handle.submit(invocation)
        # Both answers in one write: one read hands over both frames.
        os.write(
            instance.to_platform,
            frames.encode(frames.RESULT, {"seq": broken.seq, "duration_ms": 1.0, "rss": 1})
            + frames.encode(frames.RESULT, {"seq": after.seq, "duration_ms": 1.0, "rss": 1}),
        )
        outcome = await asyncio.wait_for(after.future, 5)
    assert outcome.kind == "ok"
