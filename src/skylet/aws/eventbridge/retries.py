"""A target's ``RetryPolicy`` and ``DeadLetterConfig``, as EventBridge documents them
(eb-rule-dlq): the pure decisions, and the durable redelivery of failed deliveries.

- A delivery that fails for a reason that retrying cannot cure (the function, queue or topic
  does not exist: ``NO_RESOURCE``; the target refuses the request: ``INVALID_PARAMETER``) goes
  to the dead-letter queue at once, without retries.
- Any other failure (``THROTTLING``, ``INTERNAL_ERROR``: the store unreachable, a 5xx) is
  retried with exponential backoff and jitter (1 s doubling to 300 s, the dispatcher's
  ``throttle_delay``) until ``MaximumRetryAttempts`` retries (default 185) were made or the
  event is older than ``MaximumEventAgeInSeconds`` (default 86,400), whichever comes first;
  then to the dead-letter queue, else dropped and logged.

A dead-lettered message's body is the event the rule matched; its message attributes are
``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``, ``ERROR_MESSAGE``, ``RETRY_ATTEMPTS`` and, when
a limit was reached, ``EXHAUSTED_RETRY_CONDITION`` (``MaximumRetryAttempts`` or
``MaximumEventAgeInSeconds``), all of type String.

Retries wait in the store queue ``skylet:events:retries``: a failed delivery is stored there
(hidden for its first delay) before PutEvents answers, and every node's ``Redelivery`` loop
leases the jobs that fall due, tries them, and re-hides a job for its next delay (the store
counts its tries), so a crash loses none.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from skylet.errors import ApiError, ResourceNotFound, SkyletError, TooManyRequests
from skylet.events.retry import RetryPolicy as Backoff
from skylet.events.retry import throttle_delay
from skylet.store.base import QueueStore
from skylet.store.types import MAX_RETENTION_S, SendEntry
from skylet.store.types import Message as Leased

log = logging.getLogger(__name__)

RETRIES = "skylet:events:retries"
DEFAULT_ATTEMPTS = 185
DEFAULT_AGE_S = 86_400
ATTEMPTS_RANGE = (0, 185)
AGE_RANGE_S = (60, 86_400)
#: EventBridge's "exponential back off and jitter": the dispatcher's throttle backoff.
BACKOFF = Backoff(function_error_delays_s=(1.0,), throttle_first_s=1.0, throttle_max_s=300.0)
_GONE = {
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
    "NotFound",
    "NotFoundException",
}


@dataclass(frozen=True, slots=True)
class Policy:
    """A target's retry policy and dead-letter queue (an SQS queue ARN), from PutTargets."""

    attempts: int = DEFAULT_ATTEMPTS
    age_s: int = DEFAULT_AGE_S
    dlq: str | None = None

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> Policy:
        retry = spec.get("RetryPolicy") or {}
        return cls(
            int(retry.get("MaximumRetryAttempts", DEFAULT_ATTEMPTS)),
            int(retry.get("MaximumEventAgeInSeconds", DEFAULT_AGE_S)),
            (spec.get("DeadLetterConfig") or {}).get("Arn") or None,
        )


def policy_problem(spec: Mapping[str, Any]) -> str | None:
    """Why PutTargets refuses a target's RetryPolicy or DeadLetterConfig, else None."""
    retry = spec.get("RetryPolicy") or {}
    attempts = retry.get("MaximumRetryAttempts")
    if attempts is not None and not ATTEMPTS_RANGE[0] <= int(attempts) <= ATTEMPTS_RANGE[1]:
        return (
            f"1 validation error detected: Value '{attempts}' at 'maximumRetryAttempts' failed "
            "to satisfy constraint: Member must have value between 0 and 185"
        )
    age = retry.get("MaximumEventAgeInSeconds")
    if age is not None and not AGE_RANGE_S[0] <= int(age) <= AGE_RANGE_S[1]:
        return (
            f"1 validation error detected: Value '{age}' at 'maximumEventAgeInSeconds' failed "
            "to satisfy constraint: Member must have value between 60 and 86400"
        )
    dlq = (spec.get("DeadLetterConfig") or {}).get("Arn")
    if dlq is not None and not str(dlq).startswith("arn:aws:sqs:"):
        return "The DeadLetterConfig.Arn must be the ARN of an SQS queue."
    return None


@dataclass(frozen=True, slots=True)
class Failure:
    code: str  # the DLQ's ERROR_CODE
    message: str
    retry: bool


def classify(error: SkyletError) -> Failure:
    """How EventBridge treats one failed delivery."""
    message = str(error) or type(error).__name__
    if isinstance(error, ResourceNotFound) or (isinstance(error, ApiError) and error.code in _GONE):
        return Failure("NO_RESOURCE", message, retry=False)
    if isinstance(error, TooManyRequests):
        return Failure("THROTTLING", message, retry=True)
    if isinstance(error, ApiError) and error.status < 500:
        return Failure("INVALID_PARAMETER", message, retry=False)
    return Failure("INTERNAL_ERROR", message, retry=True)


def next_try(
    policy: Policy, *, retries_made: int, first_s: float, now: float, jitter: float = 1.0
) -> float | str:
    """After a retriable failure: the seconds to wait before the next try, or the condition
    that ends the retries (``EXHAUSTED_RETRY_CONDITION``). ``retries_made`` counts the
    retries before this decision (0 after the first try)."""
    if retries_made >= policy.attempts:
        return "MaximumRetryAttempts"
    delay = throttle_delay(retries_made, BACKOFF, jitter)
    if now + delay - first_s > policy.age_s:
        return "MaximumEventAgeInSeconds"
    return delay


def dead_letter_attributes(
    *, rule_arn: str, target_arn: str, failure: Failure, retries: int, exhausted: str | None
) -> dict[str, dict[str, str]]:
    """The message attributes EventBridge puts on a dead-lettered event, as SQS takes them."""
    values = {
        "RULE_ARN": rule_arn,
        "TARGET_ARN": target_arn,
        "ERROR_CODE": failure.code,
        "ERROR_MESSAGE": failure.message[:1024],
        "RETRY_ATTEMPTS": str(retries),
    }
    if exhausted is not None:
        values["EXHAUSTED_RETRY_CONDITION"] = exhausted
    return {key: {"DataType": "String", "StringValue": v} for key, v in values.items()}


#: One try of a stored job: raises the delivery's SkyletError when it fails.
Attempt = Callable[[dict[str, Any]], Awaitable[None]]
#: Sends a job's event to its dead-letter queue (or drops it) with the failure's attributes.
GiveUp = Callable[[dict[str, Any], Failure, int, str | None], Awaitable[None]]


class Redelivery:
    """The loop that retries stored jobs on one node. Built without I/O; ``start`` after the
    store. ``delay_scale`` shortens every wait (tests)."""

    def __init__(
        self,
        store: QueueStore,
        *,
        lease_s: float = 30.0,
        poll_s: float = 1.0,
        delay_scale: float = 1.0,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.delay_scale = delay_scale
        self._now = now
        self._jitter = jitter
        self.attempt: Attempt | None = None
        self.give_up: GiveUp | None = None
        self._task: asyncio.Task[None] | None = None
        self.retried = 0
        self.delivered = 0

    async def ensure(self) -> None:
        await self._store.create_queue(
            RETRIES, visibility_timeout_s=self.lease_s, retention_s=MAX_RETENTION_S
        )

    async def start(self) -> None:
        await self.ensure()
        if self._task is None:
            self._task = asyncio.create_task(self._loop())

    def first_delay(self, policy: Policy, first_s: float) -> float | str:
        return self._scaled(next_try(policy, retries_made=0, first_s=first_s, now=self._now()))

    async def store(self, job: dict[str, Any], delay_s: float) -> None:
        """Keep a failed delivery for its first retry ``delay_s`` from now (durable on return)."""
        body = json.dumps(job, separators=(",", ":")).encode()
        await self._store.send_batch(RETRIES, [SendEntry(body, delay_s=min(delay_s, 900.0))])

    def _scaled(self, decision: float | str) -> float | str:
        return decision * self.delay_scale if isinstance(decision, float) else decision

    async def _loop(self) -> None:
        while True:
            try:
                jobs = await self._store.receive(
                    RETRIES, max_messages=10, visibility_timeout_s=self.lease_s, wait_s=self.poll_s
                )
            except SkyletError as error:
                log.warning("receiving EventBridge retries failed: %s", error)
                await asyncio.sleep(1.0)
                continue
            for leased in jobs:
                with contextlib.suppress(SkyletError):  # it comes back after its lease
                    await self._one(leased)

    async def _one(self, leased: Leased) -> None:
        job: dict[str, Any] = json.loads(leased.body)
        assert self.attempt is not None and self.give_up is not None
        try:
            await self.attempt(job)
        except SkyletError as error:
            failure = classify(error)
            retries = leased.attempts  # the store's tries of this job: each one a retry
            policy = Policy(job["attempts"], job["age_s"], job.get("dlq"))
            decision = (
                self._scaled(
                    next_try(
                        policy,
                        retries_made=retries,
                        first_s=job["first"],
                        now=self._now(),
                        jitter=self._jitter(),
                    )
                )
                if failure.retry
                else None
            )
            if isinstance(decision, float):
                self.retried += 1
                await self._store.change_visibility(RETRIES, leased.receipt, decision)
                return
            await self.give_up(job, failure, retries, decision)
        else:
            self.delivered += 1
        await self._store.delete(RETRIES, leased.receipt)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
