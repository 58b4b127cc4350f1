"""Alarm evaluation as a table: M of N, each TreatMissingData, and where the periods fall."""

from __future__ import annotations

import json

import pytest

from skylet.aws.cloudwatch.alarms import Rule, evaluate, notification, periods

NOW = 1_700_000_100.0 + 150  # 150 s into a 5-minute period
LATEST = 1_700_000_100
EARLIER = LATEST - 300


def rule(treat: str = "missing", m: int = 2, n: int = 2, op: str = "GreaterThanThreshold") -> Rule:
    return Rule(300, n, m, op, 10.0, treat)


CASES = [
    # (id, rule, values, current state, expected state)
    ("two breaching periods of two alarm", rule(), {EARLIER: 11, LATEST: 12}, "OK", "ALARM"),
    ("one breaching of two present stays ok", rule(), {EARLIER: 1, LATEST: 12}, "OK", "OK"),
    ("one of two with m of one alarms", rule(m=1), {EARLIER: 1, LATEST: 12}, "OK", "ALARM"),
    ("no datapoint is insufficient data", rule(), {}, "OK", "INSUFFICIENT_DATA"),
    ("fewer than m present, all breaching, alarms", rule(), {LATEST: 11}, "OK", "ALARM"),
    ("fewer than m present, one good, is ok", rule(), {LATEST: 3}, "ALARM", "OK"),
    ("missing as breaching alarms", rule("breaching"), {LATEST: 11}, "OK", "ALARM"),
    ("all missing as breaching alarms", rule("breaching"), {}, "OK", "ALARM"),
    ("missing as not breaching is ok", rule("notBreaching"), {LATEST: 11}, "ALARM", "OK"),
    ("all missing as not breaching is ok", rule("notBreaching"), {}, "ALARM", "OK"),
    ("ignore keeps the state when all are missing", rule("ignore"), {}, "ALARM", "ALARM"),
    ("ignore keeps the state with fewer than m", rule("ignore"), {LATEST: 1}, "ALARM", "ALARM"),
    ("ignore decides with m present", rule("ignore"), {EARLIER: 1, LATEST: 2}, "ALARM", "OK"),
    ("equal is not greater", rule(m=1), {LATEST: 10.0}, "OK", "OK"),
    (
        "equal breaches greater-or-equal",
        rule(m=1, op="GreaterThanOrEqualToThreshold"),
        {LATEST: 10.0},
        "OK",
        "ALARM",
    ),
    ("less than breaches below", rule(m=1, op="LessThanThreshold"), {LATEST: 9}, "OK", "ALARM"),
    (
        "a period too old is not evaluated",
        rule(m=1),
        {EARLIER - 300: 50},
        "OK",
        "INSUFFICIENT_DATA",
    ),
]


@pytest.mark.parametrize(
    ("the_rule", "values", "current", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_evaluation(the_rule: Rule, values: dict[int, float], current: str, expected: str) -> None:
    assert evaluate(the_rule, values, current, NOW).state == expected


def test_the_latest_period_is_the_one_that_holds_now() -> None:
    assert periods(rule(n=3), NOW) == [LATEST - 600, LATEST - 300, LATEST]


def test_the_reason_names_the_datapoints_and_the_data_lists_them() -> None:
    verdict = evaluate(rule(), {LATEST: 11.0}, "OK", NOW)
    assert verdict.reason.startswith("Threshold Crossed: 1 out of the last 2 datapoints [11.0 (")
    assert "was greater than the threshold (10.0)" in verdict.reason
    data = json.loads(verdict.reason_data)
    assert data["recentDatapoints"] == [11.0]
    assert data["period"] == 300


def test_the_notification_is_what_cloudwatch_publishes() -> None:
    alarm = {
        "AlarmName": "f-HighErrorRate",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:f-HighErrorRate",
        "AlarmConfigurationUpdatedTimestamp": NOW - 60,
        "StateValue": "ALARM",
        "StateReason": "Threshold Crossed",
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
        "Statistic": "Sum",
        "Dimensions": [{"Name": "FunctionName", "Value": "f"}],
        "Period": 300,
        "EvaluationPeriods": 2,
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": 10.0,
        "AlarmActions": ["arn:aws:sns:eu-west-1:000000000000:t"],
    }
    subject, body = notification(alarm, "OK", "eu-west-1", "000000000000", NOW)
    message = json.loads(body)
    assert subject == 'ALARM: "f-HighErrorRate" in EU (Ireland)'
    assert message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "OK"
    assert message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["Dimensions"] == [{"value": "f", "name": "FunctionName"}]
    assert message["StateChangeTime"].endswith("+0000")
