"""Per-function settings of asynchronous invocation, as Lambda's EventInvokeConfig and DLQ.

``AsyncConfig`` is what ``FunctionConfig.async_config`` holds: how often a failed event is
retried (``maximumRetryAttempts``, 0-2), how old an event may grow before it is discarded
(``maximumEventAge``, 60-21600 s), where records of successes and failures go
(``destinations: {onSuccess, onFailure}``) and where the payloads of discarded events go
(``DeadLetterConfig``). Values are checked once, here, with errors that name the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from skylet.errors import ConfigError

MAX_RETRY_ATTEMPTS = 2
DEFAULT_RETRY_ATTEMPTS = 2
MIN_EVENT_AGE_S = 60.0
MAX_EVENT_AGE_S = 21_600.0  # 6 hours, Lambda's default and maximum

DestinationKind = Literal["function", "queue", "topic"]
_SHORT_FORMS: dict[str, DestinationKind] = {
    "function": "function",
    "queue": "queue",
    "topic": "topic",
}
_ARN_SERVICES: dict[str, DestinationKind] = {"sqs": "queue", "sns": "topic"}


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a record goes: another function (invoked asynchronously with the record as its
    event), a store queue (the record is the message body) or a topic (published; topics are
    delivered by a ``TopicPublisher`` the composition root provides)."""

    kind: DestinationKind
    name: str
    qualifier: str | None = None

    def __str__(self) -> str:
        suffix = f":{self.qualifier}" if self.qualifier else ""
        return f"{self.kind}:{self.name}{suffix}"


def parse_destination(value: str, *, key: str = "destination") -> Destination:
    """Read a destination as manifests write it.

    - ``arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]``, ``arn:aws:sqs:…:NAME``,
      ``arn:aws:sns:…:NAME`` (the account and region are not checked: there is one of each);
    - ``function:NAME``, ``queue:NAME``, ``topic:NAME`` (skylet.yaml's short forms);
    - a bare ``NAME``: a function, as serverless.yml's ``onSuccess: otherFunction``.

    ``ConfigError`` names ``key`` and the value otherwise.
    """
    text = value.strip() if isinstance(value, str) else ""
    parts = text.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] in _ARN_SERVICES and parts[5]:
        return Destination(_ARN_SERVICES[parts[2]], parts[5])
    if len(parts) in (7, 8) and parts[0] == "arn" and parts[2] == "lambda":
        if parts[5] == "function" and parts[6]:
            return Destination("function", parts[6], parts[7] if len(parts) == 8 else None)
    elif len(parts) == 2 and parts[0] in _SHORT_FORMS and parts[1]:
        return Destination(_SHORT_FORMS[parts[0]], parts[1])
    elif len(parts) == 1 and text:
        return Destination("function", text)
    raise ConfigError(
        f"{key}: {value!r} is not a destination; use a function name, function:NAME, "
        "queue:NAME, topic:NAME, or a Lambda function, SQS queue or SNS topic ARN"
    )


@dataclass(frozen=True, slots=True)
class AsyncConfig:
    """Lambda's asynchronous invocation settings of one function; defaults as Lambda's.

    ``maximum_retry_attempts`` counts retries after function errors (so at most 1 + 2 runs).
    Throttles and platform failures are retried separately, with backoff, for as long as the
    event is younger than ``maximum_event_age_s``.
    """

    maximum_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    maximum_event_age_s: float = MAX_EVENT_AGE_S
    on_success: Destination | None = None
    on_failure: Destination | None = None
    dead_letter_queue: Destination | None = None

    def __post_init__(self) -> None:
        retries = self.maximum_retry_attempts
        if isinstance(retries, bool) or not isinstance(retries, int):
            raise ConfigError(f"maximumRetryAttempts: {retries!r} is not an integer (0-2)")
        if not 0 <= retries <= MAX_RETRY_ATTEMPTS:
            raise ConfigError(
                f"maximumRetryAttempts: {retries} is out of range: allowed 0-{MAX_RETRY_ATTEMPTS}"
            )
        age = self.maximum_event_age_s
        if (
            isinstance(age, bool)
            or not isinstance(age, int | float)
            or math.isnan(age)
            or not MIN_EVENT_AGE_S <= age <= MAX_EVENT_AGE_S
        ):
            raise ConfigError(
                f"maximumEventAge: {age!r} is out of range: allowed "
                f"{MIN_EVENT_AGE_S:g}-{MAX_EVENT_AGE_S:g} seconds"
            )
        dlq = self.dead_letter_queue
        if dlq is not None and dlq.kind == "function":
            raise ConfigError(
                f"DeadLetterConfig: {dlq} is a function; a dead-letter target is a queue or a topic"
            )


DEFAULT_ASYNC_CONFIG = AsyncConfig()
