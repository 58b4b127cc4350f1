"""The annotations' parsing: Knative's defaults, its ranges, errors naming the key."""

from __future__ import annotations

import pytest

from skylet.autoscale.metrics import Collector
from skylet.autoscale.spec import ScaleSpec, duration_s, parse
from skylet.errors import ConfigError

A = "autoscaling.knative.dev/"


def test_knatives_defaults_without_annotations() -> None:
    spec = parse({}, where="svc")
    assert spec == ScaleSpec()
    assert (spec.target, spec.stable_window_s, spec.panic_window_s, spec.panic_threshold) == (
        70.0,
        60.0,
        6.0,
        2.0,
    )


@pytest.mark.parametrize(
    ("annotations", "cc", "field", "value"),
    [
        pytest.param({A + "target": "10"}, 0, "target", 7.0, id="target is taken at 70 percent"),
        pytest.param(
            {}, 10, "target", 7.0, id="containerConcurrency is the target when none is given"
        ),
        pytest.param(
            {A + "target": "50"},
            10,
            "target",
            7.0,
            id="the target never exceeds containerConcurrency",
        ),
        pytest.param({A + "metric": "rps"}, 0, "target", 140.0, id="rps targets 200 per second"),
        pytest.param(
            {A + "target": "10", A + "targetUtilizationPercentage": "100"},
            0,
            "target",
            10.0,
            id="utilization 100 takes the target as it is",
        ),
        pytest.param(
            {A + "window": "6s"},
            0,
            "panic_window_s",
            1.0,
            id="the panic window is 10 percent of the window, at least 1 s",
        ),
        pytest.param(
            {A + "scaleDownDelay": "5m"},
            0,
            "scale_down_delay_s",
            300.0,
            id="scaleDownDelay reads Go durations",
        ),
        pytest.param(
            {A + "min-scale": "2"}, 0, "min_scale", 2, id="min-scale is minScale's other spelling"
        ),
        pytest.param(
            {"other/x": "y"}, 0, "min_scale", 0, id="annotations of other prefixes are ignored"
        ),
    ],
)
def test_reads(annotations: dict[str, str], cc: int, field: str, value: object) -> None:
    assert getattr(parse(annotations, cc, where="svc"), field) == value


@pytest.mark.parametrize(
    ("annotations", "message"),
    [
        pytest.param(
            {A + "targett": "1"}, "targett: unknown", id="an unknown annotation is refused"
        ),
        pytest.param(
            {A + "window": "2s"},
            "window: '2s' (allowed: 6s to 3600s)",
            id="a window under 6 s is refused",
        ),
        pytest.param(
            {A + "minScale": "3", A + "maxScale": "2"},
            "above max-scale",
            id="minScale above maxScale is refused",
        ),
        pytest.param(
            {A + "metric": "cpu"}, "metric: 'cpu'", id="the KPA takes concurrency or rps only"
        ),
        pytest.param(
            {A + "class": "hpa.autoscaling.knative.dev"}, "class", id="the HPA class is refused"
        ),
        pytest.param(
            {A + "minScale": "1.5"}, "not a whole number", id="a fractional scale is refused"
        ),
        pytest.param(
            {A + "target": "x"}, "not a number", id="a target that is no number is refused"
        ),
    ],
)
def test_refuses(annotations: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match="svc: ") as error:
        parse(annotations, where="svc")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("60s", 60.0), ("5m", 300.0), ("1m30s", 90.0), ("250ms", 0.25), ("1h", 3600.0), ("30", 30.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert duration_s(text) == seconds


@pytest.mark.parametrize("text", ["", "5x", "m5", "1m 30s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        duration_s(text)


def test_the_collector_averages_concurrency_over_time() -> None:
    collector = Collector(0.0, keep_s=60)
    for _ in range(10):
        collector.started(0.0)
    for _ in range(10):
        collector.ended(1.0)
    concurrency, rps = collector.averages(2.0, 60)
    assert (concurrency, rps) == (5.0, 5.0)
    assert collector.averages(2.0, 1)[0] == 0.0  # the last second was idle


def test_the_collector_forgets_what_left_the_window() -> None:
    collector = Collector(0.0, keep_s=6)
    collector.started(0.0)
    collector.ended(0.5)
    assert collector.averages(100.0, 6) == (0.0, 0.0)
