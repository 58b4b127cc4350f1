"""Knative's delivery spec as decisions: which answers are retried, how long to wait, when to
give up. Pure; no clock is needed (waits are relative to the failed try).

- ``retry``: the retries after the first try (so ``retry + 1`` tries in all).
- ``backoffPolicy``/``backoffDelay``: the wait before retry *n* (1-based) is
  ``delay * 2**n`` (exponential) or ``delay * n`` (linear), as Knative's dispatcher computes it:
  with ``PT0.2S`` exponential, 0.4 s, 0.8 s, 1.6 s, ….
- ``timeout``: each try's limit (ISO 8601).
- ``format``: ``json`` posts to a URI in structured mode, ``binary`` (the default) in binary.
- ``retryAfterMax``: a 429 or 503 with ``Retry-After`` (seconds or an HTTP date) waits what it
  asks, when longer than the backoff, up to this; without it Retry-After is ignored, as in
  Knative where the field turns the behaviour on.
- A broker's ``delivery`` applies to its triggers that have none; without either, Knative's
  documented broker defaults: ``retry: 10``, exponential, ``PT0.2S``.

Retried answers (Knative's data-plane contract): no answer at all (a transport error, a
timeout), 404, 408, 409, 429 and every 5xx, and any code outside 1xx-5xx. Not retried: 1xx,
2xx, 3xx and the other 4xx (400 "unparsable" among them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_DURATION = re.compile(
    r"^P(?!$)(?:(\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?"
    r"(?:(\d+(?:\.\d+)?)S)?)?$"
)
#: The status a try that got no answer counts as (Knative's ``-1``).
NO_RESPONSE = -1
_RETRIED_4XX = frozenset({404, 408, 409, 429})


def duration_s(text: str) -> float:
    """Seconds of an ISO 8601 duration such as ``PT0.2S``, ``PT2M``, ``P1DT1H``; ValueError
    naming the value otherwise."""
    found = _DURATION.match(text)
    if found is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration (allowed: e.g. PT0.2S, PT2M)")
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in found.groups())
    return days * 86_400 + hours * 3_600 + minutes * 60 + seconds


def retryable(status: int) -> bool:
    """Whether Knative retries a try that answered ``status`` (``NO_RESPONSE``: none)."""
    if 100 <= status < 400:
        return False
    if 400 <= status < 500:
        return status in _RETRIED_4XX
    return True  # 5xx, no response, and codes outside the known classes


@dataclass(frozen=True, slots=True)
class Policy:
    retry: int = 10
    backoff: Literal["linear", "exponential"] = "exponential"
    delay_s: float = 0.2
    #: Each try's limit; None leaves a function its own timeout and a URI the default.
    timeout_s: float | None = None
    #: A URI subscriber's mode: binary (Knative's default) or ``json`` (structured).
    format: Literal["json", "binary"] = "binary"
    #: ``retryAfterMax``: the longest Retry-After honoured; None ignores Retry-After.
    retry_after_max_s: float | None = None

    def wait_s(
        self, tries: int, *, status: int = NO_RESPONSE, retry_after_s: float | None = None
    ) -> float | None:
        """After ``tries`` failed tries, the wait before the next one; None: give up. A 429
        or 503 that asked for ``retry_after_s`` waits that long when it is longer than the
        backoff, up to ``retry_after_max_s``."""
        if tries > self.retry:
            return None
        if self.backoff == "linear":
            wait = self.delay_s * tries
        else:
            wait = float(self.delay_s * 2**tries)
        honoured = status in (429, 503) and retry_after_s is not None
        if honoured and self.retry_after_max_s is not None:
            wait = max(wait, min(retry_after_s or 0.0, self.retry_after_max_s))
        return wait


DEFAULT = Policy()
