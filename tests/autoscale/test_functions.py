"""Knative annotations on a function, with Lambda's rules where they differ."""

from __future__ import annotations

import pytest

from skylet.autoscale.functions import FunctionScale, for_function
from skylet.errors import ConfigError

A = "autoscaling.knative.dev/"


@pytest.mark.parametrize(
    ("annotations", "provisioned", "reserved", "expected"),
    [
        pytest.param({}, 0, None, FunctionScale(0, None, None), id="no annotations change nothing"),
        pytest.param(
            {"other/x": "1"},
            2,
            5,
            FunctionScale(2, 5, None),
            id="other annotations are not the KPA's",
        ),
        pytest.param(
            {A + "minScale": "2"},
            0,
            None,
            FunctionScale(2, None, 60.0),
            id="minScale keeps instances warm as provisioned concurrency",
        ),
        pytest.param(
            {A + "minScale": "1"},
            3,
            None,
            FunctionScale(3, None, 60.0),
            id="the larger of minScale and provisioned concurrency wins",
        ),
        pytest.param(
            {A + "maxScale": "4"},
            0,
            None,
            FunctionScale(0, 4, 60.0),
            id="maxScale caps the instances as reserved concurrency",
        ),
        pytest.param(
            {A + "maxScale": "4"},
            0,
            2,
            FunctionScale(0, 2, 60.0),
            id="the smaller of maxScale and reserved concurrency wins",
        ),
        pytest.param(
            {A + "window": "6s"},
            0,
            None,
            FunctionScale(0, None, 6.0),
            id="an idle instance goes after the stable window",
        ),
        pytest.param(
            {A + "window": "10s", A + "scale-to-zero-pod-retention-period": "20s"},
            0,
            None,
            FunctionScale(0, None, 30.0),
            id="and after the retention period too",
        ),
        pytest.param(
            {A + "scaleDownDelay": "2m"},
            0,
            None,
            FunctionScale(0, None, 120.0),
            id="a scale-down delay longer than the window keeps instances for it",
        ),
        pytest.param(
            {A + "target": "10"},
            0,
            None,
            FunctionScale(0, None, 60.0),
            id="a target changes nothing: each invocation has its own instance",
        ),
    ],
)
def test_for_function(
    annotations: dict[str, str], provisioned: int, reserved: int | None, expected: FunctionScale
) -> None:
    assert for_function(annotations, provisioned, reserved, where="f") == expected


def test_min_scale_above_reserved_concurrency_is_refused_as_lambda_refuses_it() -> None:
    with pytest.raises(ConfigError, match=r"f: minScale .* 3 is above the reserved concurrency 2"):
        for_function({A + "minScale": "3"}, 0, 2, where="f")


def test_a_bad_annotation_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"f: autoscaling\.knative\.dev/window"):
        for_function({A + "window": "1s"}, 0, None, where="f")
