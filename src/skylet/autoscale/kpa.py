"""Decide: how many instances a revision wants, Knative's KPA as a pure function.

``decide(spec, state, observed, now)`` takes the windowed averages the collector measured, the
ready instances and ``now`` (monotonic seconds), and returns a :class:`Decision` (the count
and the next state), or None for "no decision" when there is nothing measured yet. Per tick:

- ``stable = ceil(stable average / target)``, ``panic = ceil(panic average / target)``, each
  kept within ``[floor(ready / 2), ceil(1000 * ready)]`` (ready counted as at least 1), and
  raised to ``activationScale`` when above zero;
- panic mode begins when ``panic / ready ≥ panicThreshold`` (200 %: twice the ready
  instances), is extended every tick still over it, and ends a full stable window after the
  last such tick. While panicking the count is the larger of the two and never goes down;
- ``scaleDownDelay``: the count is the largest wanted within that long;
- then ``[minScale, maxScale]``; and the last instance goes (scale to zero) only once zero has
  been wanted for ``scale-to-zero-pod-retention-period``: since the stable average is zero
  only after a whole window without requests, that is the window plus the retention after
  the last request. A revision that has just started (or been woken from zero) stays
  active a stable window first (``State.active_since``), as Knative's does.

Example (target 10 at 70 %: 7 per instance, 60 s window, 6 s panic window): a burst of 200
concurrent requests onto 1 ready instance gives panic ceil(200/7) = 29, 29/1 ≥ 2, so panic
mode, 29 instances at once; they are kept until 60 s after the burst's last tick, and the
revision goes to zero 60 s after its last request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from skylet.autoscale.spec import ScaleSpec


@dataclass(frozen=True, slots=True)
class Observed:
    """What the collector measured (concurrency or requests per second, by the spec's
    metric) over the stable and the panic windows, and the instances ready now."""

    stable: float
    panic: float
    ready: int


@dataclass(frozen=True, slots=True)
class State:
    """What the decider remembers between ticks."""

    panic_since: float | None = None  # the last tick over the panic threshold
    max_panic: int = 0
    #: (time, wanted) of the last scaleDownDelay, for its sliding maximum.
    recent: tuple[tuple[float, int], ...] = ()
    zero_since: float | None = None  # when zero was first wanted, in a row
    #: When the revision last went from no instances to some (its start, a request at zero):
    #: as Knative's, it stays active at least a stable window before it may go to zero.
    active_since: float | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    desired: int
    state: State
    panicking: bool
    #: Before [minScale, maxScale] and scale-to-zero: what the metrics alone ask for.
    wanted: int


def decide(spec: ScaleSpec, state: State, observed: Observed | None, now: float) -> Decision | None:
    """The count of instances the revision wants now; None without measurements."""
    if observed is None:
        return None
    ready = max(1, observed.ready)
    most = math.ceil(spec.max_scale_up_rate * ready)
    least = math.floor(ready / spec.max_scale_down_rate)
    raw_stable = math.ceil(observed.stable / spec.target - 1e-9)
    raw_panic = math.ceil(observed.panic / spec.target - 1e-9)
    stable = min(max(raw_stable, least), most)
    panic = min(max(raw_panic, least), most)
    if spec.activation_scale > 1:
        stable = max(stable, spec.activation_scale) if raw_stable > 0 else stable
        panic = max(panic, spec.activation_scale) if raw_panic > 0 else panic
    over = raw_panic / ready >= spec.panic_threshold
    panic_since, max_panic = state.panic_since, state.max_panic
    if over:
        panic_since = now
    elif panic_since is not None and panic_since + spec.stable_window_s < now:
        panic_since, max_panic = None, 0
    wanted = stable
    if panic_since is not None:
        wanted = max(wanted, panic, max_panic)
        max_panic = wanted
    recent = state.recent
    if spec.scale_down_delay_s > 0:
        recent = (
            *(r for r in recent if r[0] > now - spec.scale_down_delay_s),
            (now, wanted),
        )
        wanted = max(w for _, w in recent)
    desired = spec.bounded(wanted)
    zero_since = state.zero_since
    if desired == 0:
        zero_since = now if zero_since is None else zero_since
        young = state.active_since is not None and now - state.active_since < spec.stable_window_s
        if observed.ready > 0 and (young or now - zero_since < spec.retention_s):
            desired = 1  # the last instance is retained
    else:
        zero_since = None
    next_state = replace(
        state, panic_since=panic_since, max_panic=max_panic, recent=recent, zero_since=zero_since
    )
    return Decision(desired, next_state, panic_since is not None, wanted)


def from_zero(spec: ScaleSpec) -> int:
    """How many instances a request arriving at zero starts (the activator's poke)."""
    return spec.bounded(max(1, spec.activation_scale))


def initial(spec: ScaleSpec) -> int:
    """How many instances a new revision starts with (``initialScale``, within the bounds)."""
    return spec.bounded(spec.initial_scale)
