"""The KPA decider's table: each case one tick, named by the behaviour Knative documents."""

from __future__ import annotations

from dataclasses import replace

import pytest

from skylet.autoscale.kpa import Decision, Observed, State, decide, from_zero, initial
from skylet.autoscale.metrics import Collector
from skylet.autoscale.spec import ScaleSpec, parse

NOW = 1000.0
#: target 10 at Knative's 70 %: 7 per instance.
TEN = parse({"autoscaling.knative.dev/target": "10"}, where="t")

CASES = [
    # (id, spec, state, observed, desired, panicking)
    ("wants ceil(stable average / target) instances", TEN, State(), Observed(20, 20, 3), 3, False),
    (
        "enters panic mode when the panic window asks for twice the ready instances",
        TEN,
        State(),
        Observed(5, 200, 1),
        29,
        True,
    ),
    (
        "does not panic below the panic threshold",
        TEN,
        State(),
        Observed(13, 13, 2),  # ceil(13 / 7) = 2 on 2 ready: 100 %
        2,
        False,
    ),
    (
        "never scales down while panicking",
        TEN,
        State(panic_since=NOW - 10, max_panic=29),
        Observed(5, 7, 29),
        29,
        True,
    ),
    (
        "takes the stable count when it is above the panic one while panicking",
        TEN,
        State(panic_since=NOW - 10, max_panic=3),
        Observed(70, 7, 3),
        10,
        True,
    ),
    (
        "leaves panic mode a stable window after the last tick over the threshold",
        TEN,
        State(panic_since=NOW - 61, max_panic=29),
        Observed(70, 7, 29),
        14,  # at most halved per tick: floor(29 / 2)
        False,
    ),
    ("halves at most per tick", TEN, State(), Observed(0, 0, 10), 5, False),
    (
        "scales up at most 1000 times the ready instances per tick",
        ScaleSpec(target=0.01),
        State(),
        Observed(1e6, 1e6, 1),
        1000,
        True,
    ),
    (
        "keeps minScale instances without traffic",
        replace(TEN, min_scale=2),
        State(),
        Observed(0, 0, 2),
        2,
        False,
    ),
    (
        "never goes above maxScale, even in panic",
        replace(TEN, max_scale=10),
        State(),
        Observed(200, 200, 1),
        10,
        True,
    ),
    (
        "raises a count above zero to the activation scale",
        replace(TEN, activation_scale=3),
        State(),
        Observed(1, 1, 1),
        3,
        False,
    ),
    (
        "does not raise zero to the activation scale",
        replace(TEN, activation_scale=3),
        State(),
        Observed(0, 0, 1),
        0,
        False,
    ),
    (
        "holds the largest count wanted within the scale-down delay",
        replace(TEN, scale_down_delay_s=300),
        State(recent=((NOW - 100, 8),)),
        Observed(7, 7, 1),
        8,
        False,
    ),
    (
        "forgets counts older than the scale-down delay",
        replace(TEN, scale_down_delay_s=300),
        State(recent=((NOW - 301, 8),)),
        Observed(7, 7, 1),
        1,
        False,
    ),
    (
        "keeps the last instance for the scale-to-zero retention period",
        replace(TEN, retention_s=30),
        State(zero_since=NOW - 10),
        Observed(0, 0, 1),
        1,
        False,
    ),
    (
        "scales to zero once the retention period has passed",
        replace(TEN, retention_s=30),
        State(zero_since=NOW - 30),
        Observed(0, 0, 1),
        0,
        False,
    ),
    (
        "stays at zero without traffic",
        replace(TEN, retention_s=30),
        State(),
        Observed(0, 0, 0),
        0,
        False,
    ),
    (
        "keeps one instance a stable window after the revision became active",
        TEN,
        State(active_since=NOW - 30),
        Observed(0, 0, 1),
        1,
        False,
    ),
    (
        "lets a revision active for a stable window go to zero",
        TEN,
        State(active_since=NOW - 60),
        Observed(0, 0, 1),
        0,
        False,
    ),
    (
        "scales on requests per second with metric rps",
        parse(
            {"autoscaling.knative.dev/metric": "rps", "autoscaling.knative.dev/target": "10"},
            where="t",
        ),
        State(),
        Observed(70, 70, 10),
        10,
        False,
    ),
]


@pytest.mark.parametrize(
    ("spec", "state", "observed", "desired", "panicking"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_decides(
    spec: ScaleSpec, state: State, observed: Observed, desired: int, panicking: bool
) -> None:
    decision = decide(spec, state, observed, NOW)
    assert decision is not None
    assert (decision.desired, decision.panicking) == (desired, panicking)


def test_makes_no_decision_without_measurements() -> None:
    assert decide(TEN, State(), None, NOW) is None


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(TEN, 1, id="starts one instance for a request at zero"),
        pytest.param(
            replace(TEN, activation_scale=4),
            4,
            id="starts the activation scale for a request at zero",
        ),
        pytest.param(
            replace(TEN, activation_scale=4, max_scale=2), 2, id="starts no more than maxScale"
        ),
    ],
)
def test_from_zero(spec: ScaleSpec, expected: int) -> None:
    assert from_zero(spec) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(TEN, 1, id="starts a new revision with one instance"),
        pytest.param(replace(TEN, initial_scale=0), 0, id="starts none with initialScale 0"),
        pytest.param(
            replace(TEN, initial_scale=0, min_scale=2), 2, id="starts minScale when it is more"
        ),
    ],
)
def test_initial(spec: ScaleSpec, expected: int) -> None:
    assert initial(spec) == expected


def trajectory(
    spec: ScaleSpec, busy_until: float, concurrency: int, end: float
) -> list[tuple[float, int, bool]]:
    """Ticks every 2 s of a revision carrying ``concurrency`` requests until ``busy_until``,
    then none; the instances are whatever the decider last asked for (ready at once)."""
    collector = Collector(0.0, keep_s=spec.stable_window_s)
    for _ in range(concurrency):
        collector.started(0.0)
    state, ready, ticks = State(), 1, []
    now, ended = 0.0, False
    while now <= end:
        if not ended and now >= busy_until:
            for _ in range(concurrency):
                collector.ended(busy_until)
            ended = True
        stable = collector.averages(now, spec.stable_window_s)
        panic = collector.averages(now, spec.panic_window_s)
        index = 0 if spec.metric == "concurrency" else 1
        decision = decide(spec, state, Observed(stable[index], panic[index], ready), now)
        assert isinstance(decision, Decision)
        state, ready = decision.state, decision.desired
        ticks.append((now, ready, decision.panicking))
        now += 2.0
    return ticks


def first_zero(ticks: list[tuple[float, int, bool]]) -> float:
    return next(t for t, count, _ in ticks if count == 0 and t > 0)


def test_scales_to_zero_after_the_stable_window_and_the_retention_period() -> None:
    spec = replace(TEN, retention_s=20)
    ticks = trajectory(spec, busy_until=10, concurrency=5, end=200)
    # The last request ended at 10 s; the 60 s window is empty from 70 s; 20 s retained.
    assert 88 <= first_zero(ticks) <= 92


def test_scales_to_zero_a_stable_window_after_the_last_request_without_retention() -> None:
    ticks = trajectory(TEN, busy_until=10, concurrency=5, end=200)
    assert 68 <= first_zero(ticks) <= 72


def test_a_burst_panics_to_its_size_and_holds_it_for_a_stable_window() -> None:
    ticks = trajectory(TEN, busy_until=4, concurrency=200, end=200)
    peak = max(count for _, count, _ in ticks)
    assert peak == 29  # ceil(200 / 7)
    held = [t for t, count, panicking in ticks if count == peak and panicking]
    # The first tick (at 0 s) has measured nothing yet; the next sees the burst. Over the
    # threshold while the 6 s panic window sees the burst, then a stable window more.
    assert held[0] == 2 and 60 <= held[-1] <= 72
    assert 68 <= first_zero(ticks) <= 140


def test_the_scale_down_delay_holds_the_peak_after_panic() -> None:
    spec = replace(TEN, scale_down_delay_s=120)
    ticks = trajectory(spec, busy_until=4, concurrency=200, end=300)
    assert all(count == 29 for t, count, _ in ticks if 2 <= t <= 120)
