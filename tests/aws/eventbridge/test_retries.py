"""A target's RetryPolicy and DeadLetterConfig: the pure decisions as EventBridge documents them
(tables), and the redelivery of failed deliveries on a real SQLite store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from skylet.aws.eventbridge.catalog import Catalog, Rule, Target
from skylet.aws.eventbridge.delivery import Router
from skylet.aws.eventbridge.retries import (
    Failure,
    Policy,
    Redelivery,
    classify,
    dead_letter_attributes,
    next_try,
    policy_problem,
)
from skylet.errors import (
    PlatformError,
    ResourceNotFound,
    ServiceError,
    ServiceUnavailable,
    SkyletError,
    StoreUnavailable,
    TooManyRequests,
)
from skylet.observe.trace_context import CURRENT, TraceContext
from skylet.store.sqlite import SqliteStore

POLICY = Policy(attempts=3, age_s=3600)


@pytest.mark.parametrize(
    ("error", "code", "retried"),
    [
        (ResourceNotFound("Function not found"), "NO_RESOURCE", False),
        (ServiceError("QueueDoesNotExist", "no queue"), "NO_RESOURCE", False),
        (ServiceError("InvalidParameterValue", "no group id"), "INVALID_PARAMETER", False),
        (TooManyRequests("Rate Exceeded."), "THROTTLING", True),
        (ServiceUnavailable("store down"), "INTERNAL_ERROR", True),
        (StoreUnavailable("store down"), "INTERNAL_ERROR", True),
        (PlatformError("broken"), "INTERNAL_ERROR", True),
    ],
    ids=[
        "a missing function is not retried",
        "a missing queue is not retried",
        "a refused request is not retried",
        "a throttle is retried",
        "an unavailable service is retried",
        "an unreachable store is retried",
        "a platform failure is retried",
    ],
)
def test_failures_are_classified_as_eventbridge_treats_them(
    error: SkyletError, code: str, retried: bool
) -> None:
    failure = classify(error)
    assert (failure.code, failure.retry) == (code, retried)


@pytest.mark.parametrize(
    ("policy", "retries_made", "elapsed_s", "expected"),
    [
        (POLICY, 0, 0, 1.0),
        (POLICY, 1, 1, 2.0),
        (POLICY, 2, 3, 4.0),
        (POLICY, 3, 7, "MaximumRetryAttempts"),
        (Policy(attempts=185, age_s=86_400), 20, 3000, 300.0),
        (Policy(attempts=185, age_s=60), 5, 40, "MaximumEventAgeInSeconds"),
        (Policy(attempts=0, age_s=60), 0, 0, "MaximumRetryAttempts"),
    ],
    ids=[
        "the first retry waits a second",
        "the wait doubles",
        "and doubles again",
        "past the attempts the retries are exhausted",
        "the wait stops growing at five minutes",
        "a retry that would start past the maximum age is not made",
        "zero attempts means no retry",
    ],
)
def test_the_next_try_follows_the_policy(
    policy: Policy, retries_made: int, elapsed_s: float, expected: float | str
) -> None:
    decision = next_try(policy, retries_made=retries_made, first_s=1000.0, now=1000.0 + elapsed_s)
    assert decision == expected


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ({"RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 60}}, None),
        ({"RetryPolicy": {"MaximumRetryAttempts": 186}}, "between 0 and 185"),
        ({"RetryPolicy": {"MaximumEventAgeInSeconds": 59}}, "between 60 and 86400"),
        ({"RetryPolicy": {"MaximumEventAgeInSeconds": 86_401}}, "between 60 and 86400"),
        ({"DeadLetterConfig": {"Arn": "arn:aws:sns:us-east-1:000000000000:t"}}, "SQS queue"),
    ],
    ids=["the limits are allowed", "186 attempts", "59 s", "a day and a second", "a topic DLQ"],
)
def test_put_targets_checks_the_policy(spec: Mapping[str, Any], problem: str | None) -> None:
    found = policy_problem(spec)
    assert found is None if problem is None else problem in (found or "")


def test_dead_letter_attributes_name_rule_target_error_and_retries() -> None:
    attributes = dead_letter_attributes(
        rule_arn="arn:r",
        target_arn="arn:t",
        failure=Failure("THROTTLING", "Rate Exceeded.", retry=True),
        retries=3,
        exhausted="MaximumRetryAttempts",
    )
    assert {k: v["StringValue"] for k, v in attributes.items()} == {
        "RULE_ARN": "arn:r",
        "TARGET_ARN": "arn:t",
        "ERROR_CODE": "THROTTLING",
        "ERROR_MESSAGE": "Rate Exceeded.",
        "RETRY_ATTEMPTS": "3",
        "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
    }
    no_retry = Failure("NO_RESOURCE", "gone", retry=False)
    assert "EXHAUSTED_RETRY_CONDITION" not in dead_letter_attributes(
        rule_arn="r", target_arn="t", failure=no_retry, retries=0, exhausted=None
    )


class _Queues:
    """A queue sink that refuses ``fail`` sends to ``flaky`` (throttled), then takes them."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.sent: list[tuple[str, str, Mapping[str, Mapping[str, Any]]]] = []
        #: The trace each send (refused or taken) was made in.
        self.traces: list[TraceContext | None] = []

    async def send(
        self,
        queue_arn: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]],
        *,
        group_id: str | None = None,
        dedup_id: str | None = None,
    ) -> None:
        self.traces.append(CURRENT.get())
        if queue_arn.endswith(":flaky") and self.fail > 0:
            self.fail -= 1
            raise TooManyRequests("Rate Exceeded.")
        self.sent.append((queue_arn, body, attributes))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "state.db", recheck_s=0.05)
    await opened.start()
    yield opened
    await opened.aclose()


async def _router(store: SqliteStore, queues: _Queues, attempts: int) -> tuple[Router, Redelivery]:
    catalog = Catalog(store)
    await catalog.start()
    await catalog.put_rule(Rule("default", "orders", json.dumps({"source": ["shop"]})))
    spec = {
        "RetryPolicy": {"MaximumRetryAttempts": attempts, "MaximumEventAgeInSeconds": 3600},
        "DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dead"},
    }
    flaky = Target("q", "arn:aws:sqs:us-east-1:000000000000:flaky", spec)
    await catalog.put_targets("default", "orders", [flaky])
    redelivery = Redelivery(store, poll_s=0.05, delay_scale=0.01)
    router = Router(catalog, queues=queues, redelivery=redelivery)
    await redelivery.start()
    return router, redelivery


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not before the deadline")


EVENT = {"source": "shop", "detail-type": "x", "detail": {"n": 1}}


@pytest.mark.anyio
async def test_a_throttled_target_is_retried_until_it_takes_the_event(store: SqliteStore) -> None:
    queues = _Queues(fail=2)
    router, redelivery = await _router(store, queues, attempts=5)
    try:
        assert await router.route("default", EVENT) == 0  # kept for a retry
        await _until(lambda: len(queues.sent) == 1)
        ((arn, body, _),) = queues.sent
        assert arn.endswith(":flaky") and json.loads(body)["detail"] == {"n": 1}
        assert (redelivery.retried, redelivery.delivered, router.dead_lettered) == (1, 1, 0)
    finally:
        await redelivery.aclose()


@pytest.mark.anyio
async def test_past_its_attempts_the_event_goes_to_the_dead_letter_queue(
    store: SqliteStore,
) -> None:
    queues = _Queues(fail=100)
    router, redelivery = await _router(store, queues, attempts=2)
    try:
        await router.route("default", EVENT)
        await _until(lambda: router.dead_lettered == 1)
        ((arn, body, attributes),) = queues.sent
        assert arn.endswith(":dead") and json.loads(body) == EVENT
        values = {k: v["StringValue"] for k, v in attributes.items()}
        assert values["ERROR_CODE"] == "THROTTLING"
        assert values["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert values["RETRY_ATTEMPTS"] == "2"
        assert values["TARGET_ARN"].endswith(":flaky")
        assert values["RULE_ARN"].endswith(":rule/orders")
    finally:
        await redelivery.aclose()


@pytest.mark.anyio
async def test_a_bus_target_that_does_not_exist_is_dead_lettered_without_retries(
    store: SqliteStore,
) -> None:
    catalog = Catalog(store)
    await catalog.start()
    await catalog.put_rule(Rule("default", "forward", json.dumps({"source": ["shop"]})))
    bus = Target(
        "b",
        "arn:aws:events:us-east-1:000000000000:event-bus/gone",
        {"DeadLetterConfig": {"Arn": "arn:aws:sqs:us-east-1:000000000000:dead"}},
    )
    await catalog.put_targets("default", "forward", [bus])
    queues = _Queues(fail=0)
    router = Router(catalog, queues=queues)
    assert await router.route("default", EVENT) == 0
    ((arn, _, attributes),) = queues.sent
    assert arn.endswith(":dead")
    assert attributes["ERROR_CODE"]["StringValue"] == "NO_RESOURCE"
    assert attributes["RETRY_ATTEMPTS"]["StringValue"] == "0"


@pytest.mark.anyio
async def test_the_retries_and_the_dead_letter_continue_the_events_trace(
    store: SqliteStore,
) -> None:
    queues = _Queues(fail=100)
    router, redelivery = await _router(store, queues, attempts=2)
    caller = TraceContext.new()
    token = CURRENT.set(caller)
    try:
        await router.route("default", EVENT)
    finally:
        CURRENT.reset(token)
    try:
        await _until(lambda: router.dead_lettered == 1)
        # The first try, two retries (in the redelivery's task) and the dead letter.
        assert len(queues.traces) == 4
        assert [t and (t.trace_id, t.span_id) for t in queues.traces] == [
            (caller.trace_id, caller.span_id)
        ] * 4
        assert CURRENT.get() is None
    finally:
        await redelivery.aclose()
