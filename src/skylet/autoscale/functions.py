"""The KPA's annotations on a Python function (``annotations:`` in skylet.yaml), with Lambda's
rules where the two differ. Pure.

- ``minScale`` keeps that many instances warm: provisioned concurrency, the larger of the two;
- ``maxScale`` caps the instances: reserved concurrency, the smaller of the two. Beyond it an
  invocation is throttled (429 ``TooManyRequestsException``) as Lambda does, not queued as
  Knative's activator would: Lambda's rule wins;
- scale to zero the Knative way: an idle instance goes once it has been idle for the stable
  window (or ``scaleDownDelay`` when longer) plus ``scale-to-zero-pod-retention-period``,
  instead of the platform's keep-alive;
- ``target``, ``metric``, the panic knobs, ``activation-scale`` and ``initialScale`` are read
  (and refused when out of range) but change nothing: Lambda gives every concurrent invocation
  an instance of its own at once, which is what the KPA converges to at a target of one.
  Provisioned concurrency above reserved concurrency is refused, as Lambda refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from skylet.autoscale import spec as scale
from skylet.errors import ConfigError


@dataclass(frozen=True, slots=True)
class FunctionScale:
    provisioned: int
    reserved: int | None
    keepalive_s: float | None  # None: the platform's


def for_function(
    annotations: Mapping[str, str], provisioned: int, reserved: int | None, *, where: str
) -> FunctionScale:
    if not any(key.startswith(scale.PREFIX) for key in annotations):
        return FunctionScale(provisioned, reserved, None)
    spec = scale.parse(annotations, where=where)
    provisioned = max(provisioned, spec.min_scale)
    if spec.max_scale:
        reserved = spec.max_scale if reserved is None else min(reserved, spec.max_scale)
    if reserved is not None and provisioned > reserved:
        raise ConfigError(
            f"{where}: minScale (or provisioned concurrency) {provisioned} is above the "
            f"reserved concurrency {reserved} (allowed: at most it, as Lambda requires)"
        )
    idle = max(spec.stable_window_s, spec.scale_down_delay_s) + spec.retention_s
    return FunctionScale(provisioned, reserved, idle)
