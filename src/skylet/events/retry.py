"""Lambda's retry policy for asynchronous invocation, as pure decisions with the clock passed in.

AWS's rules (invocation-async-error-handling):

- a **function error** (an exception, a timeout, the runtime crashing or running out of memory:
  "errors returned by the function's code and errors returned by the function's runtime") is
  retried ``maximumRetryAttempts`` times (default 2), one minute after the first run and two
  minutes after the second;
- a **throttle** (429) or a **system error** (500-series: here a ``PlatformError``, or the
  function missing for a moment during a redeploy) returns the event to the queue; it is tried
  again with a backoff growing from 1 second to 5 minutes, for as long as the event is younger
  than ``maximumEventAge``; these tries do not count against the retry attempts;
- an event older than ``maximumEventAge`` is discarded (condition ``EventAgeExceeded``);
- a function whose reserved concurrency is 0 sends new events straight to its on-failure
  destination or dead-letter queue, without retries.

Nothing here reads a clock or does I/O; the dispatcher passes ``now`` (and the jitter) in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from skylet.config import AsyncConfig
from skylet.errors import ConfigError, InvalidRequestContent, SkyletError, TooManyRequests
from skylet.store.types import MAX_DELAY_S

Failure = Literal["function", "throttled", "system", "rejected"]
Condition = Literal["Success", "RetriesExhausted", "EventAgeExceeded"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The waits between tries, in seconds. Lambda's by default; tests shorten them.

    ``function_error_delays_s[i]`` is the wait after the (i+1)-th failed run; throttles and
    system errors wait ``throttle_first_s`` doubling up to ``throttle_max_s``. A wait must fit
    the store's longest message delay (900 s).
    """

    function_error_delays_s: tuple[float, ...] = (60.0, 120.0)
    throttle_first_s: float = 1.0
    throttle_max_s: float = 300.0

    def __post_init__(self) -> None:
        waits = (*self.function_error_delays_s, self.throttle_first_s, self.throttle_max_s)
        if not self.function_error_delays_s or any(not 0 <= w <= MAX_DELAY_S for w in waits):
            raise ConfigError(
                f"retry delays {waits} are out of range: each 0-{MAX_DELAY_S:g} s, "
                "and at least one delay after a function error"
            )


@dataclass(frozen=True, slots=True)
class Retry:
    """Put the event back and try again after ``delay_s``."""

    delay_s: float


@dataclass(frozen=True, slots=True)
class Settle:
    """Stop trying: record the outcome and send it to the destination of ``condition``."""

    condition: Condition


Decision = Retry | Settle
SUCCESS = Settle("Success")


def classify(function_error: str | None, error: BaseException | None) -> Failure | None:
    """What kind of failure one try was; ``None`` for a success.

    ``error`` is what ``Invoker.invoke`` raised (if anything), ``function_error`` the
    ``X-Amz-Function-Error`` of its result.
    """
    if error is None:
        return None if function_error is None else "function"
    if isinstance(error, TooManyRequests):
        return "throttled"
    # Lambda refuses a payload that is not JSON before it is queued; one that reaches the
    # function anyway cannot succeed later, so retrying it would only delay the failure record.
    if isinstance(error, InvalidRequestContent):
        return "rejected"
    if isinstance(error, SkyletError):
        return "system"
    raise TypeError(f"not an invocation failure: {error!r}")


def event_expired(enqueued_at: float, now: float, config: AsyncConfig) -> bool:
    return now - enqueued_at > config.maximum_event_age_s


def before_invoke(enqueued_at: float, now: float, config: AsyncConfig) -> Settle | None:
    """Whether to give up on an event before trying it; ``None``: try it."""
    return Settle("EventAgeExceeded") if event_expired(enqueued_at, now, config) else None


def after_invoke(
    failure: Failure | None,
    *,
    enqueued_at: float,
    now: float,
    runs: int,
    deferrals: int,
    config: AsyncConfig,
    policy: RetryPolicy,
    reserved_concurrency: int | None = None,
    jitter: float = 1.0,
) -> Decision:
    """What to do after one try.

    ``runs`` counts the function's runs of this event including this try (throttled tries do
    not run it); ``deferrals`` counts the throttled and system-failed tries *before* this one;
    ``reserved_concurrency`` is the function's (0 switches it off).
    ``jitter`` in (0, 1] scales the throttle backoff to its upper half, so that events throttled
    together do not all come back at the same instant.

    A retry that would start after the event's maximum age is decided now as
    ``EventAgeExceeded``: waiting for it would end the same way, only later.
    """
    if failure is None:
        return SUCCESS
    if failure == "rejected":
        return Settle("RetriesExhausted")
    if failure == "throttled" and reserved_concurrency == 0:
        # The function is switched off: Lambda gives its events up at once.
        return Settle("RetriesExhausted")
    if failure == "function":
        if runs > config.maximum_retry_attempts:
            return Settle("RetriesExhausted")
        delays = policy.function_error_delays_s
        delay = delays[min(runs, len(delays)) - 1]
    else:
        delay = throttle_delay(deferrals, policy, jitter)
    if event_expired(enqueued_at, now + delay, config):
        return Settle("EventAgeExceeded")
    return Retry(delay)


def throttle_delay(deferrals: int, policy: RetryPolicy, jitter: float = 1.0) -> float:
    """``throttle_first_s * 2**deferrals``, at most ``throttle_max_s``, scaled by ``jitter``
    into the upper half of that: with Lambda's numbers 1, 2, 4 … 256, 300, 300 … seconds."""
    # 2**deferrals overflows a float past ~1024 deferrals; the cap is reached long before.
    full = min(policy.throttle_max_s, policy.throttle_first_s * 2.0 ** min(deferrals, 64))
    return full * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))
