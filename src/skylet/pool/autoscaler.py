"""Where the next invocation of a function runs: an idle instance, behind a running one, or a
new instance. Pure: the pool passes in what it sees.

Lambda gives every concurrent invocation its own execution environment, and so does skylet,
with one exception that only shows in throughput. Waking an instance costs two process
switches per invocation, more than a short handler's own work, so when a function's recent
invocations were short (``MAX_WAIT_MS``) and as many instances are already running as there are
CPUs, the invocation is written *ahead*: into the pipe of a running instance that will read it
as soon as it answers, without sleeping in between. Each instance still runs one invocation at
a time. An invocation written ahead is never stuck behind a slow one: past ``QUEUE_WAIT_S`` the
instance bounces it unrun and the pool gives it to another instance (docs/runtime.md).
"""

from __future__ import annotations

#: At most this many invocations wait in one instance, the running one included...
MAX_DEPTH = 32
#: ...and at most this much work (by the typical duration) is ahead of the last one: so only
#: a function whose invocations typically take less has any written ahead.
MAX_WAIT_MS = 3.0
#: Nothing is written behind an invocation that has been running longer than this.
HEAD_AGE_S = 0.002
#: An invocation written ahead and not started within this is bounced to another instance.
QUEUE_WAIT_S = 0.010
#: How much one invocation's duration moves the typical duration.
WEIGHT = 0.1


def typical_ms(previous: float | None, duration_ms: float) -> float:
    """The typical duration after one more invocation: a moving average, so one slow
    invocation (or one slowed by a busy machine) counts, but does not decide alone."""
    if previous is None:
        return duration_ms
    return (1 - WEIGHT) * previous + WEIGHT * duration_ms


def look_for_running(typical: float | None, idle: bool, running: int, cpus: int) -> bool:
    """Whether to write the next invocation behind a running one rather than use an idle
    instance or start one: the function is fast, and either nothing is idle or as many
    instances run as there are CPUs (waking another would only wait for a CPU)."""
    if typical is None or typical > MAX_WAIT_MS or not running:
        return False
    return not idle or running >= cpus


def can_wait_behind(depth: int, running_s: float, typical: float | None) -> bool:
    """Whether an instance holding ``depth`` invocations, the first of them running for
    ``running_s``, may take one more; the pool picks the shallowest such instance."""
    return depth < MAX_DEPTH and running_s <= HEAD_AGE_S and depth * (typical or 0.0) <= MAX_WAIT_MS
