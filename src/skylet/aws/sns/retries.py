"""SNS's delivery policies: how long to wait before each retry of a failed delivery. Pure.

A policy has four phases (SNS's "Amazon SNS message delivery retries"): ``numNoDelayRetries``
at once, ``numMinDelayRetries`` ``minDelayTarget`` apart, the backoff phase (the retries left
of ``numRetries``) going from ``minDelayTarget`` to ``maxDelayTarget`` by ``backoffFunction``,
then ``numMaxDelayRetries`` ``maxDelayTarget`` apart.

- HTTP/S: the topic's or the subscription's ``DeliveryPolicy`` (``healthyRetryPolicy``; on a
  topic under ``http.defaultHealthyRetryPolicy``), else SNS's default: 3 retries, 20 s apart.
- Lambda and SQS (AWS-managed endpoints): SNS's fixed policy, 100,015 retries over 23 days:
  3 at once, 2 a second apart, 10 backing off from 1 to 20 s, then 100,000 20 s apart.

The backoff curves are interpolations between the two delays (linear: evenly; arithmetic:
slow, then faster; geometric: fast, then slower; exponential: by a constant ratio); SNS
publishes them as a graph, not formulas. No clock here: ``delay_s(retry)`` is pure.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from skylet.aws.sns.names import invalid

BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_HTTP_RETRIES = 100
MAX_DELAY_TARGET_S = 3600


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    num_retries: int = 3
    min_delay_s: float = 20.0
    max_delay_s: float = 20.0
    no_delay_retries: int = 0
    min_delay_retries: int = 0
    max_delay_retries: int = 0
    backoff: str = "linear"

    def delay_s(self, retry: int) -> float | None:
        """The wait before retry number ``retry`` (1 = the first retry), or None when the
        policy is exhausted."""
        if retry < 1 or retry > self.num_retries:
            return None
        if retry <= self.no_delay_retries:
            return 0.0
        retry -= self.no_delay_retries
        if retry <= self.min_delay_retries:
            return self.min_delay_s
        retry -= self.min_delay_retries
        backoff = max(
            self.num_retries
            - self.no_delay_retries
            - self.min_delay_retries
            - self.max_delay_retries,
            0,
        )
        if retry <= backoff:
            return self._curve(retry, backoff)
        return self.max_delay_s

    def _curve(self, step: int, steps: int) -> float:
        low, high = self.min_delay_s, self.max_delay_s
        if steps <= 1 or high <= low:
            return low
        x = (step - 1) / (steps - 1)
        if self.backoff == "exponential":
            return low * math.pow(high / low, x)
        if self.backoff == "arithmetic":
            return low + (high - low) * x * x
        if self.backoff == "geometric":
            return low + (high - low) * math.sqrt(x)
        return low + (high - low) * x


#: SNS's default for HTTP/S endpoints.
HTTP_DEFAULT = RetryPolicy()
#: SNS's policy for Lambda and SQS endpoints (AWS-managed): 100,015 retries over 23 days.
MANAGED = RetryPolicy(
    num_retries=100_015,
    min_delay_s=1.0,
    max_delay_s=20.0,
    no_delay_retries=3,
    min_delay_retries=2,
    max_delay_retries=100_000,
    backoff="exponential",
)


def parse_delivery_policy(text: str, *, topic: bool) -> RetryPolicy:
    """A ``DeliveryPolicy`` attribute's HTTP retry policy, checked as SNS checks it."""
    try:
        document = json.loads(text)
    except ValueError:
        raise invalid("DeliveryPolicy: failed to parse JSON") from None
    if not isinstance(document, dict):
        raise invalid("DeliveryPolicy: must be a JSON object")
    policy: Any = document.get("healthyRetryPolicy")
    if topic:
        http = document.get("http")
        if isinstance(http, dict):
            policy = http.get("defaultHealthyRetryPolicy", policy)
    if policy is None:
        return HTTP_DEFAULT
    if not isinstance(policy, dict):
        raise invalid("DeliveryPolicy: healthyRetryPolicy must be an object")
    return _retry_policy(policy)


def _retry_policy(policy: Mapping[str, Any]) -> RetryPolicy:
    def number(key: str, default: float) -> float:
        value = policy.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise invalid(f"DeliveryPolicy: {key} must be a non-negative number")
        return float(value)

    result = RetryPolicy(
        num_retries=int(number("numRetries", 3)),
        min_delay_s=number("minDelayTarget", 20),
        max_delay_s=number("maxDelayTarget", 20),
        no_delay_retries=int(number("numNoDelayRetries", 0)),
        min_delay_retries=int(number("numMinDelayRetries", 0)),
        max_delay_retries=int(number("numMaxDelayRetries", 0)),
        backoff=str(policy.get("backoffFunction", "linear")),
    )
    if result.backoff not in BACKOFF_FUNCTIONS:
        raise invalid(
            "DeliveryPolicy: backoffFunction must be one of " + ", ".join(BACKOFF_FUNCTIONS)
        )
    if result.num_retries > MAX_HTTP_RETRIES:
        raise invalid(f"DeliveryPolicy: numRetries must be at most {MAX_HTTP_RETRIES}")
    if not 1 <= result.min_delay_s <= result.max_delay_s <= MAX_DELAY_TARGET_S:
        raise invalid(
            "DeliveryPolicy: minDelayTarget must be at least 1 and at most maxDelayTarget, "
            f"which must be at most {MAX_DELAY_TARGET_S}"
        )
    phases = result.no_delay_retries + result.min_delay_retries + result.max_delay_retries
    if phases > result.num_retries:
        raise invalid("DeliveryPolicy: the phases' retries exceed numRetries")
    return result
