"""The dispatcher with real instances: Lambda's retries, age limit, throttles, destinations."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from skylet.config import AsyncConfig, Destination
from skylet.events.envelope import queue_name
from skylet.events.records import AsyncInvocation
from skylet.store.base import Store
from tests.store_fixtures import FakeClock

from .harness import FAST, calls, function, platform, wait_until

pytestmark = pytest.mark.anyio

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST"


async def settled(store: Store, queue: str) -> dict[str, Any]:
    """The one record a destination queue received, decoded."""
    (message,) = await store.receive(queue, max_messages=10)
    record: dict[str, Any] = json.loads(message.body)
    return record


async def test_an_event_runs_once_and_its_success_record_goes_to_a_queue(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ok.jsonl"
    await store.create_queue("done")
    config = AsyncConfig(on_success=Destination("queue", "done"))
    async with platform(store, [function(code_dir, "ok", "ok", out)], {"ok": config}) as p:
        request_id = await p.async_invoker.enqueue("ok", b'{"n": 1}')
        await wait_until(lambda: p.dispatcher.stats.succeeded == 1)
        record = await settled(store, "done")
        (state,) = await p.records.query("ok")

    assert [(c["id"], c["event"]) for c in calls(out)] == [(request_id, {"n": 1})]
    assert TIMESTAMP.match(record.pop("timestamp"))
    assert record == {
        "version": "1.0",
        "requestContext": {
            "requestId": request_id,
            "functionArn": arn("ok"),
            "condition": "Success",
            "approximateInvokeCount": 1,
        },
        "requestPayload": {"n": 1},
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
        "responsePayload": {"ok": True, "echo": {"n": 1}},
    }
    assert (state.status, state.attempts, state.condition) == ("succeeded", 1, "Success")


async def test_function_errors_are_retried_twice_with_backoff_then_recorded_to_a_function(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    failing, sunk = tmp_path / "fail.jsonl", tmp_path / "sink.jsonl"
    functions = [
        function(code_dir, "fail", "fail", failing),
        function(code_dir, "sink", "sink", sunk),
    ]
    configs = {
        "fail": AsyncConfig(on_failure=Destination("function", "sink")),
        "sink": AsyncConfig(),
    }
    async with platform(store, functions, configs) as p:
        request_id = await p.async_invoker.enqueue("fail", b'{"n": 7}')
        stats = p.dispatcher.stats
        await wait_until(
            lambda: len(calls(sunk)) == 1 and (stats.failed, stats.succeeded) == (1, 1)
        )
        (state,) = await p.records.query("fail")

    runs = calls(failing)
    assert [c["id"] for c in runs] == [request_id] * 3
    gaps = [later["t"] - earlier["t"] for earlier, later in itertools.pairwise(runs)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4, gaps  # FAST's 1 and 2 "minutes"
    record = calls(sunk)[0]["event"]
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": arn("fail"),
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 3,
    }
    assert record["requestPayload"] == {"n": 7}
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == "ValueError"
    assert record["responsePayload"]["errorMessage"] == "boom 7"
    assert (state.status, state.attempts, state.condition) == ("failed", 3, "RetriesExhausted")
    assert [e.type for e in state.errors] == ["ValueError"] * 3
    assert (stats.retried, stats.failed, stats.succeeded) == (2, 1, 1)


async def test_no_retries_and_a_dead_letter_queue_get_the_payload_with_lambdas_attributes(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fail.jsonl"
    await store.create_queue("dlq")
    config = AsyncConfig(maximum_retry_attempts=0, dead_letter_queue=Destination("queue", "dlq"))
    async with platform(store, [function(code_dir, "fail", "fail", out)], {"fail": config}) as p:
        request_id = await p.async_invoker.enqueue("fail", b'{"n": 3}')
        await wait_until(lambda: p.dispatcher.stats.failed == 1)
        (dead,) = await store.receive("dlq")

    assert len(calls(out)) == 1
    assert dead.body == b'{"n": 3}'
    assert dead.attributes == {
        "RequestID": request_id,
        "ErrorCode": "200",
        "ErrorMessage": "boom 3",
    }


async def test_an_event_past_its_maximum_age_is_discarded_unrun(
    store: Store, code_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "ok.jsonl"
    await store.create_queue("late")
    config = AsyncConfig(maximum_event_age_s=60, on_failure=Destination("queue", "late"))
    fn = function(code_dir, "ok", "ok", out)
    async with platform(store, [fn], {}, now=clock) as p:
        request_id = await p.async_invoker.enqueue("ok", b'{"n": 1}')
        clock.advance(61)
        await p.dispatcher.deploy({"ok": config})
        await wait_until(lambda: p.dispatcher.stats.discarded == 1)
        record = await settled(store, "late")
        state = await p.records.get("ok", request_id)

    assert calls(out) == []
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["responseContext"] == {"statusCode": 500, "executedVersion": "$LATEST"}
    assert record["responsePayload"] is None
    assert state is not None and (state.status, state.condition) == (
        "discarded",
        "EventAgeExceeded",
    )


async def test_throttled_events_are_retried_until_the_function_has_room(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "slow.jsonl"
    fn = function(code_dir, "slow", "slow", out, reserved_concurrency=1)
    async with platform(store, [fn]) as p:
        busy = asyncio.ensure_future(p.invoker.invoke("slow", b'{"sleep": 1.0}'))
        await wait_until(lambda: p.invoker.stats("slow")[:2] == (1, 0))  # one busy instance
        ids = await p.async_invoker.enqueue_batch("slow", [b'{"sleep": 0.01}'] * 3)
        await wait_until(lambda: p.dispatcher.stats.succeeded == 3)
        await busy
        states = await p.records.query("slow")

    assert {c["id"] for c in calls(out)} >= set(ids)
    assert len(calls(out)) == 4  # the synchronous call and each event once
    assert {s.status for s in states} == {"succeeded"}
    assert p.dispatcher.stats.deferred >= 1
    assert max(s.throttles for s in states) >= 1


async def test_reserved_concurrency_zero_sends_new_events_to_failure_unrun_until_raised(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "ok.jsonl"
    await store.create_queue("off")
    await store.create_queue("dlq")
    config = AsyncConfig(
        on_failure=Destination("queue", "off"), dead_letter_queue=Destination("queue", "dlq")
    )
    fn = function(code_dir, "ok", "ok", out, reserved_concurrency=0)
    async with platform(store, [fn], {"ok": config}) as p:
        request_id = await p.async_invoker.enqueue("ok", b'{"n": 1}')
        await wait_until(lambda: p.dispatcher.stats.failed == 1)
        record = await settled(store, "off")
        (dead,) = await store.receive("dlq")
        await p.invoker.deploy([replace(fn, reserved_concurrency=None)])
        await p.async_invoker.enqueue("ok", b'{"n": 2}')
        await wait_until(lambda: p.dispatcher.stats.succeeded == 1)

    assert [c["event"] for c in calls(out)] == [{"n": 2}]
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 0
    assert record["responseContext"]["statusCode"] == 429
    assert record["responsePayload"]["errorType"] == "TooManyRequestsException"
    assert dead.attributes["ErrorCode"] == "429"


async def test_a_redelivered_event_recorded_done_is_deleted_without_running_again(
    store: Store, code_dir: Path, tmp_path: Path, clock: FakeClock
) -> None:
    out = tmp_path / "ok.jsonl"
    fn = function(code_dir, "ok", "ok", out)
    async with platform(store, [fn], {}, now=clock) as p:
        done = await p.async_invoker.enqueue("ok", b'{"n": "done"}')
        pending = await p.async_invoker.enqueue("ok", b'{"n": "pending"}')
        # A consumer took both, finished the first, and died before deleting either.
        taken = await store.receive(queue_name("ok"), max_messages=2, visibility_timeout_s=1)
        now = clock()
        await p.records.write([AsyncInvocation(done, "ok", "succeeded", now, now, attempts=1)])
        clock.advance(2)
        await p.dispatcher.deploy({"ok": AsyncConfig()})
        await wait_until(lambda: p.dispatcher.stats.succeeded == 1)
        await wait_until(lambda: p.dispatcher.held() == 0)
        stats = await store.queue_stats(queue_name("ok"))

    assert len(taken) == 2
    assert [c["id"] for c in calls(out)] == [pending]
    assert p.dispatcher.stats.duplicates == 1
    assert (stats.visible, stats.in_flight, stats.delayed) == (0, 0, 0)


async def test_a_try_longer_than_the_lease_keeps_its_event_and_is_recorded_running(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "slow.jsonl"
    settings = replace(FAST, lease_s=0.6)
    async with platform(store, [function(code_dir, "slow", "slow", out)], settings=settings) as p:
        request_id = await p.async_invoker.enqueue("slow", b'{"sleep": 1.5}')
        running: list[AsyncInvocation] = []

        async def seen_running() -> bool:
            running[:] = await p.records.query("slow", status="running")
            return bool(running)

        while not await seen_running():
            await asyncio.sleep(0.05)
        await wait_until(lambda: p.dispatcher.stats.succeeded == 1)
        final = await p.records.get("slow", request_id)

    assert [c["id"] for c in calls(out)] == [request_id]
    assert running[0].attempts == 1
    assert final is not None and final.status == "succeeded"
    assert (p.dispatcher.stats.lost_leases, p.dispatcher.stats.duplicates) == (0, 0)


async def test_stopping_gives_back_held_events_and_the_next_dispatcher_finishes_them(
    store: Store, code_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "slow.jsonl"
    fn = function(code_dir, "slow", "slow", out, reserved_concurrency=1)
    async with platform(store, [fn]) as first:
        ids = await first.async_invoker.enqueue_batch("slow", [b'{"sleep": 0.3}'] * 4)
        await wait_until(lambda: first.dispatcher.held() == 4)
    # Leaving the block stopped the dispatcher: the running try settled, the rest went back.
    async with platform(store, [fn]) as second:
        await wait_until(lambda: second.dispatcher.stats.succeeded == 4 - first_done(first))
        states = await second.records.query("slow")

    assert sorted(c["id"] for c in calls(out)) == sorted(ids)
    assert {s.request_id: s.status for s in states} == dict.fromkeys(ids, "succeeded")


def first_done(harness: Any) -> int:
    return int(harness.dispatcher.stats.succeeded)
