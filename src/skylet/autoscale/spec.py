"""The autoscaler's knobs: Knative's ``autoscaling.knative.dev/*`` annotations and
``containerConcurrency``, validated by one function whose errors name the key. Pure.

Defaults are Knative's config-autoscaler ones (target 100 concurrent requests or 200 requests
per second, 70 % utilization, a 60 s stable window, a panic window of 10 % of it, panic at
200 %, scale-up at most 1000 times and scale-down at most ½ per tick), with one difference: skylet's
activator is always in the request path, so there is no ``scale-to-zero-grace-period`` to wait
for before the last instance goes (Knative's 30 s exist to program the activator into the path).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from skylet.errors import ConfigError

PREFIX = "autoscaling.knative.dev/"
DEFAULT_CONCURRENCY_TARGET = 100.0
DEFAULT_RPS_TARGET = 200.0
DEFAULT_UTILIZATION = 70.0
DEFAULT_STABLE_WINDOW_S = 60.0
MIN_STABLE_WINDOW_S = 6.0
MAX_STABLE_WINDOW_S = 3600.0
DEFAULT_PANIC_WINDOW_PERCENTAGE = 10.0
DEFAULT_PANIC_THRESHOLD_PERCENTAGE = 200.0
MAX_SCALE_UP_RATE = 1000.0
MAX_SCALE_DOWN_RATE = 2.0
#: Knative's smallest target: below it a division would scale to absurd counts.
MIN_TARGET = 0.01
TICK_S = 2.0

#: Every annotation this module reads, by its short name; Knative spells some two ways.
_ALIASES = {
    "minScale": "min-scale",
    "maxScale": "max-scale",
    "initialScale": "initial-scale",
    "scaleDownDelay": "scale-down-delay",
    "activationScale": "activation-scale",
    "panicWindowPercentage": "panic-window-percentage",
    "panicThresholdPercentage": "panic-threshold-percentage",
    "targetUtilizationPercentage": "target-utilization-percentage",
}
KNOWN = frozenset(
    {
        "class",
        "metric",
        "target",
        "window",
        "scale-to-zero-pod-retention-period",
        "target-burst-capacity",
        "metric-aggregation-algorithm",
        *_ALIASES,
        *_ALIASES.values(),
    }
)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


@dataclass(frozen=True, slots=True)
class ScaleSpec:
    """One revision's (or function's) knobs, in seconds and instances."""

    metric: Literal["concurrency", "rps"] = "concurrency"
    #: What one instance should carry: total * utilization (70 concurrent requests by default).
    target: float = DEFAULT_CONCURRENCY_TARGET * DEFAULT_UTILIZATION / 100
    #: The hard limit per instance (``containerConcurrency``); 0: none.
    container_concurrency: int = 0
    min_scale: int = 0
    max_scale: int = 0  # 0: unbounded
    initial_scale: int = 1
    activation_scale: int = 1
    stable_window_s: float = DEFAULT_STABLE_WINDOW_S
    panic_window_s: float = DEFAULT_STABLE_WINDOW_S * DEFAULT_PANIC_WINDOW_PERCENTAGE / 100
    panic_threshold: float = DEFAULT_PANIC_THRESHOLD_PERCENTAGE / 100
    scale_down_delay_s: float = 0.0
    retention_s: float = 0.0
    max_scale_up_rate: float = MAX_SCALE_UP_RATE
    max_scale_down_rate: float = MAX_SCALE_DOWN_RATE

    def bounded(self, desired: int) -> int:
        """``desired`` within [minScale, maxScale]."""
        if self.max_scale:
            desired = min(desired, self.max_scale)
        return max(desired, self.min_scale)


def duration_s(text: str) -> float:
    """A Go duration (``5m``, ``1m30s``, ``250ms``; a bare number is seconds) in seconds;
    ValueError for anything else."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(f"{text!r} is not a duration (e.g. 60s, 5m, 1m30s)")
    return total


def _number(where: str, key: str, value: str, low: float, high: float = math.inf) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{where}: {PREFIX}{key}: {value!r} is not a number") from None
    if not low <= number <= high or math.isnan(number):
        span = f"≥ {low:g}" if high == math.inf else f"{low:g} to {high:g}"
        raise ConfigError(f"{where}: {PREFIX}{key}: {value!r} (allowed: {span})")
    return number


def _count(where: str, key: str, value: str) -> int:
    number = _number(where, key, value, 0)
    if number != int(number):
        raise ConfigError(f"{where}: {PREFIX}{key}: {value!r} is not a whole number")
    return int(number)


def _seconds(where: str, key: str, value: str, low: float, high: float) -> float:
    try:
        seconds = duration_s(value)
    except ValueError as error:
        raise ConfigError(f"{where}: {PREFIX}{key}: {error}") from None
    if not low <= seconds <= high:
        raise ConfigError(f"{where}: {PREFIX}{key}: {value!r} (allowed: {low:g}s to {high:g}s)")
    return seconds


def parse(
    annotations: Mapping[str, object], container_concurrency: int = 0, *, where: str
) -> ScaleSpec:
    """The spec ``annotations`` (any key; those under ``autoscaling.knative.dev/`` are read)
    and ``containerConcurrency`` give. ConfigError naming ``where`` and the key for an unknown
    annotation or a value out of Knative's ranges."""
    given: dict[str, str] = {}
    for key, value in annotations.items():
        if not key.startswith(PREFIX):
            continue
        short = key.removeprefix(PREFIX)
        if short not in KNOWN:
            raise ConfigError(f"{where}: {key}: unknown (allowed: {', '.join(sorted(KNOWN))})")
        given[_ALIASES.get(short, short)] = str(value)
    kind = given.get("class", "kpa.autoscaling.knative.dev")
    if kind != "kpa.autoscaling.knative.dev":
        raise ConfigError(
            f"{where}: {PREFIX}class: {kind!r} "
            "(skylet has Knative's KPA: kpa.autoscaling.knative.dev)"
        )
    metric = given.get("metric", "concurrency")
    if metric not in ("concurrency", "rps"):
        raise ConfigError(f"{where}: {PREFIX}metric: {metric!r} (allowed: concurrency, rps)")
    default = DEFAULT_CONCURRENCY_TARGET if metric == "concurrency" else DEFAULT_RPS_TARGET
    total = _number(where, "target", given["target"], MIN_TARGET) if "target" in given else None
    if metric == "concurrency" and container_concurrency > 0:
        # Knative: the target never exceeds the hard limit, and is the limit when not given.
        total = min(total, container_concurrency) if total is not None else container_concurrency
    utilization = _number(
        where,
        "target-utilization-percentage",
        given.get("target-utilization-percentage", str(DEFAULT_UTILIZATION)),
        1,
        100,
    )
    window = _seconds(
        where,
        "window",
        given.get("window", "60s"),
        MIN_STABLE_WINDOW_S,
        MAX_STABLE_WINDOW_S,
    )
    panic_pct = _number(
        where,
        "panic-window-percentage",
        given.get("panic-window-percentage", str(DEFAULT_PANIC_WINDOW_PERCENTAGE)),
        1,
        100,
    )
    threshold = _number(
        where,
        "panic-threshold-percentage",
        given.get("panic-threshold-percentage", str(DEFAULT_PANIC_THRESHOLD_PERCENTAGE)),
        110,
        1000,
    )
    min_scale = _count(where, "min-scale", given.get("min-scale", "0"))
    max_scale = _count(where, "max-scale", given.get("max-scale", "0"))
    if max_scale and min_scale > max_scale:
        raise ConfigError(
            f"{where}: {PREFIX}min-scale: {min_scale} is above max-scale ({max_scale})"
        )
    initial = _count(where, "initial-scale", given.get("initial-scale", "1"))
    activation = _count(where, "activation-scale", given.get("activation-scale", "1"))
    if activation < 1:
        raise ConfigError(f"{where}: {PREFIX}activation-scale: {activation} (allowed: ≥ 1)")
    return ScaleSpec(
        metric=metric,  # type: ignore[arg-type]
        target=max(MIN_TARGET, (total if total is not None else default) * utilization / 100),
        container_concurrency=container_concurrency,
        min_scale=min_scale,
        max_scale=max_scale,
        initial_scale=initial,
        activation_scale=activation,
        stable_window_s=window,
        panic_window_s=max(TICK_S / 2, window * panic_pct / 100),
        panic_threshold=threshold / 100,
        scale_down_delay_s=_seconds(
            where, "scale-down-delay", given.get("scale-down-delay", "0s"), 0, 3600
        ),
        retention_s=_seconds(
            where,
            "scale-to-zero-pod-retention-period",
            given.get("scale-to-zero-pod-retention-period", "0s"),
            0,
            3600,
        ),
    )
