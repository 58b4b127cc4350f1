"""A metric alarm's evaluation, and the notification it publishes. Pure: the clock is passed in.

An alarm looks at its last ``EvaluationPeriods`` periods of ``Period`` seconds, aligned to the
epoch, the latest being the one that holds ``now`` (so an alarm on a 5-minute Sum sees this
5 minutes' invocations as they happen, as CloudWatch's does). A period with a datapoint is
breaching when its value compares to the threshold as ``ComparisonOperator`` says. With
``DatapointsToAlarm`` = M (default: EvaluationPeriods), the new state is:

- ALARM when at least M periods breach;
- for missing periods, by ``TreatMissingData``: ``breaching`` counts them as breaching,
  ``notBreaching`` as not; ``missing`` (the default) leaves them out: with no datapoint at all
  the alarm is INSUFFICIENT_DATA, with fewer than M it is ALARM if every one present breaches,
  else OK; ``ignore`` is ``missing`` but keeps the current state where ``missing`` would decide
  on fewer than M datapoints (or none).

(CloudWatch also looks a few periods further back when datapoints are missing; skylet does not.)
"""

from __future__ import annotations

import json
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True, slots=True)
class Rule:
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    comparison: str
    threshold: float
    treat_missing: str = "missing"
    statistic: str = "Sum"


@dataclass(frozen=True, slots=True)
class Verdict:
    state: str
    reason: str
    reason_data: str


def periods(rule: Rule, now: float) -> list[int]:
    """The starts of the periods evaluated at ``now``, oldest first."""
    latest = int(now // rule.period_s) * rule.period_s
    return [latest - rule.period_s * i for i in range(rule.evaluation_periods - 1, -1, -1)]


def stamp(epoch_s: float) -> str:
    """CloudWatch's reason timestamps: ``dd/mm/yy HH:MM:SS``."""
    return time.strftime("%d/%m/%y %H:%M:%S", time.gmtime(epoch_s))


def iso(epoch_s: float) -> str:
    """ISO 8601 with milliseconds and ``+0000``, as the reason data and notifications write."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))
    return f"{whole}.{int(epoch_s * 1000) % 1000:03d}+0000"


def evaluate(rule: Rule, values: Mapping[int, float], current: str, now: float) -> Verdict:
    """The state ``rule`` is in at ``now`` given ``values`` (period start → value)."""
    compare, words = OPERATORS[rule.comparison]
    starts = periods(rule, now)
    present = [(t, values[t]) for t in starts if t in values]
    missing = len(starts) - len(present)
    breaching = sum(1 for _, v in present if compare(v, rule.threshold))
    m = rule.datapoints_to_alarm
    treat = rule.treat_missing
    if treat == "breaching":
        breaching += missing
    counted = len(starts) if treat in ("breaching", "notBreaching") else len(present)
    data = _reason_data(rule, present, now, starts)
    if counted == 0 or (counted < m and treat == "ignore"):
        if treat == "ignore":
            return Verdict(current, "", data)
        return Verdict(
            "INSUFFICIENT_DATA",
            f"Insufficient Data: {len(starts)} datapoint{_s(len(starts))} were unknown.",
            data,
        )
    alarm = breaching >= m or (counted < m and breaching == counted)
    listed = ", ".join(f"{v!r} ({stamp(t)})" for t, v in reversed(present))
    if alarm:
        count = breaching
        reason = (
            f"Threshold Crossed: {count} out of the last {len(starts)} datapoints "
            f"[{listed}] {'was' if count == 1 else 'were'} {words} the threshold "
            f"({rule.threshold!r}) (minimum {m} datapoint{_s(m)} for OK -> ALARM transition)."
        )
        return Verdict("ALARM", reason, data)
    good = counted - breaching
    reason = (
        f"Threshold Crossed: {good} datapoint{_s(good)} [{listed}] "
        f"{'was' if good == 1 else 'were'} not {words} the threshold ({rule.threshold!r})."
    )
    return Verdict("OK", reason, data)


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _reason_data(
    rule: Rule, present: Sequence[tuple[int, float]], now: float, starts: Sequence[int]
) -> str:
    return json.dumps(
        {
            "version": "1.0",
            "queryDate": iso(now),
            "startDate": iso(starts[0]),
            "statistic": rule.statistic,
            "period": rule.period_s,
            "recentDatapoints": [v for _, v in present],
            "threshold": rule.threshold,
            "evaluatedDatapoints": [
                {"timestamp": iso(t), "value": v} for t, v in reversed(present)
            ],
        }
    )


#: The region names AWS writes in a notification's subject and ``Region``.
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-west-2": "EU (London)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-northeast-1": "Asia Pacific (Tokyo)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)",
    "ap-south-1": "Asia Pacific (Mumbai)",
    "sa-east-1": "South America (Sao Paulo)",
}


def notification(
    alarm: Mapping[str, Any], old_state: str, region: str, account: str, now: float
) -> tuple[str, str]:
    """The subject and JSON message CloudWatch publishes to an alarm's SNS actions."""
    region_name = REGION_NAMES.get(region, region)
    trigger: dict[str, Any] = {
        "MetricName": alarm.get("MetricName"),
        "Namespace": alarm.get("Namespace"),
        "StatisticType": "ExtendedStatistic" if alarm.get("ExtendedStatistic") else "Statistic",
        "Statistic": (alarm.get("Statistic") or "").upper() or None,
        "Unit": alarm.get("Unit"),
        "Dimensions": [
            {"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])
        ],
        "Period": alarm.get("Period"),
        "EvaluationPeriods": alarm.get("EvaluationPeriods"),
        "DatapointsToAlarm": alarm.get("DatapointsToAlarm"),
        "ComparisonOperator": alarm.get("ComparisonOperator"),
        "Threshold": alarm.get("Threshold"),
        "TreatMissingData": alarm.get("TreatMissingData", "missing"),
        "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile", ""),
    }
    if alarm.get("ExtendedStatistic"):
        trigger["ExtendedStatistic"] = alarm["ExtendedStatistic"]
        del trigger["Statistic"]
    if alarm.get("Metrics"):  # metric math: the queries instead of one metric
        for key in ("MetricName", "Namespace", "StatisticType", "Statistic", "Unit", "Dimensions"):
            trigger.pop(key, None)
        trigger["Period"] = next(
            (q["MetricStat"]["Period"] for q in alarm["Metrics"] if q.get("MetricStat")), None
        )
        trigger["Metrics"] = alarm["Metrics"]
    message = {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": iso(alarm["AlarmConfigurationUpdatedTimestamp"]),
        "NewStateValue": alarm["StateValue"],
        "NewStateReason": alarm.get("StateReason", ""),
        "StateChangeTime": iso(now),
        "Region": region_name,
        "AlarmArn": alarm["AlarmArn"],
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions", [])),
        "AlarmActions": list(alarm.get("AlarmActions", [])),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions", [])),
        "Trigger": trigger,
    }
    subject = f'{alarm["StateValue"]}: "{alarm["AlarmName"]}" in {region_name}'
    return subject[:100], json.dumps(message)
