"""CloudWatch's metric alarms: PutMetricAlarm, DescribeAlarms (and ForMetric), DeleteAlarms,
SetAlarmState, DescribeAlarmHistory, and their evaluation every ``evaluation_interval_s``
(the rules are ``alarms.py``'s, pure); a change of state runs the new state's actions."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from skylet.aws.cloudwatch import alarms as alarm_rules
from skylet.aws.cloudwatch.base import CloudWatchBase, token_of
from skylet.aws.cloudwatch.queries import (
    epoch_of,
    get_metric_data,
    key_of,
    period_sets,
    value_of,
)
from skylet.aws.cloudwatch.stats import percentile_of
from skylet.aws.protocols.types import Params
from skylet.aws.service import RequestContext
from skylet.errors import ServiceError

log = logging.getLogger(__name__)

#: Alarm history is kept 30 days, as CloudWatch keeps it.
HISTORY_RETENTION_S = 30 * 86400


class AlarmOperations(CloudWatchBase):
    def _alarm_arn(self, name: str) -> str:
        return f"arn:aws:cloudwatch:{self.region}:{self.account_id}:alarm:{name}"

    async def put_metric_alarm(self, request: Params, context: RequestContext) -> None:
        name: str = request["AlarmName"]
        period = request.get("Period")
        metrics = request.get("Metrics")
        if metrics:
            period = _check_metrics(request)
        else:
            _check_metric(request)
        assert period is not None
        if period not in (10, 30) and (period < 10 or period % 60):
            raise ServiceError(
                "ValidationError", "Period must be 10, 30 or a multiple of 60.", status=400
            )
        if request.get("Threshold") is None:
            raise ServiceError("ValidationError", "Threshold must not be null.", status=400)
        if request["ComparisonOperator"] not in alarm_rules.OPERATORS:
            raise ServiceError(
                "ValidationError",
                f"skylet does not evaluate {request['ComparisonOperator']} alarms.",
                status=400,
            )
        evaluation = int(request["EvaluationPeriods"])
        to_alarm = int(request.get("DatapointsToAlarm") or evaluation)
        if evaluation < 1 or not 1 <= to_alarm <= evaluation:
            raise ServiceError(
                "ValidationError",
                "DatapointsToAlarm must be between 1 and EvaluationPeriods.",
                status=400,
            )
        treat = request.get("TreatMissingData") or "missing"
        if treat not in alarm_rules.TREATMENTS:
            raise ServiceError(
                "ValidationError",
                f"TreatMissingData must be one of {', '.join(alarm_rules.TREATMENTS)}.",
                status=400,
            )
        for action in (
            *request.get("AlarmActions", ()),
            *request.get("OKActions", ()),
            *request.get("InsufficientDataActions", ()),
        ):
            if not action.startswith("arn:"):
                raise ServiceError("ValidationError", f"Invalid arn syntax: {action}", status=400)
        now = self.clock()
        async with self._lock:
            existing = await self.alarms.get(name)
            alarm: Params = {
                key: request[key]
                for key in (
                    "AlarmDescription",
                    "MetricName",
                    "Namespace",
                    "Statistic",
                    "ExtendedStatistic",
                    "Unit",
                    "Threshold",
                    "ComparisonOperator",
                    "EvaluateLowSampleCountPercentile",
                )
                if request.get(key) is not None
            }
            alarm.update(
                AlarmName=name,
                AlarmArn=self._alarm_arn(name),
                ActionsEnabled=request.get("ActionsEnabled", True),
                OKActions=list(request.get("OKActions", ())),
                AlarmActions=list(request.get("AlarmActions", ())),
                InsufficientDataActions=list(request.get("InsufficientDataActions", ())),
                EvaluationPeriods=evaluation,
                TreatMissingData=treat,
                AlarmConfigurationUpdatedTimestamp=now,
            )
            if metrics:
                alarm["Metrics"] = [dict(q, ReturnData=q.get("ReturnData", True)) for q in metrics]
            else:
                alarm["Dimensions"] = [dict(d) for d in request.get("Dimensions", ())]
                alarm["Period"] = period
            if request.get("DatapointsToAlarm") is not None:
                alarm["DatapointsToAlarm"] = to_alarm
            if existing is None:
                alarm.update(
                    StateValue="INSUFFICIENT_DATA",
                    StateReason="Unchecked: Initial alarm creation",
                    StateUpdatedTimestamp=now,
                    StateTransitionedTimestamp=now,
                )
                summary = f'Alarm "{name}" created'
            else:
                for key in (
                    "StateValue",
                    "StateReason",
                    "StateReasonData",
                    "StateUpdatedTimestamp",
                    "StateTransitionedTimestamp",
                ):
                    if key in existing:
                        alarm[key] = existing[key]
                summary = f'Alarm "{name}" updated'
            await self.alarms.put(name, alarm)
            await self.history.add(
                name,
                now,
                {
                    "AlarmName": name,
                    "AlarmType": "MetricAlarm",
                    "Timestamp": now,
                    "HistoryItemType": "ConfigurationUpdate",
                    "HistorySummary": summary,
                    "HistoryData": json.dumps({"version": "1.0", "type": "Update"}),
                },
            )

    async def describe_alarms(self, request: Params, context: RequestContext) -> Params:
        types = request.get("AlarmTypes") or ["MetricAlarm"]
        names = request.get("AlarmNames")
        if names and request.get("AlarmNamePrefix"):
            raise ServiceError(
                "InvalidParameterCombination",
                "AlarmNames and AlarmNamePrefix cannot be given together.",
            )
        found = await self.alarms.all(request.get("AlarmNamePrefix") or "")
        if names:
            found = [a for a in found if a["AlarmName"] in names]
        if request.get("StateValue"):
            found = [a for a in found if a["StateValue"] == request["StateValue"]]
        if request.get("ActionPrefix"):
            prefix = request["ActionPrefix"]
            found = [
                a
                for a in found
                if any(
                    x.startswith(prefix)
                    for x in (*a["AlarmActions"], *a["OKActions"], *a["InsufficientDataActions"])
                )
            ]
        limit = int(request.get("MaxRecords") or 50)
        start = token_of(request.get("NextToken"))
        page = found[start : start + limit] if "MetricAlarm" in types else []
        result: Params = {"MetricAlarms": page, "CompositeAlarms": []}
        if "MetricAlarm" in types and start + limit < len(found):
            result["NextToken"] = str(start + limit)
        return result

    async def describe_alarms_for_metric(self, request: Params, context: RequestContext) -> Params:
        wanted = key_of(request)
        found = [
            a
            for a in await self.alarms.all()
            if key_of(a) == wanted
            and (request.get("Statistic") is None or a.get("Statistic") == request["Statistic"])
            and (request.get("Period") is None or a["Period"] == request["Period"])
        ]
        return {"MetricAlarms": found}

    async def delete_alarms(self, request: Params, context: RequestContext) -> None:
        names: list[str] = list(request["AlarmNames"])
        async with self._lock:
            for name in names:
                if await self.alarms.get(name) is None:
                    raise ServiceError("ResourceNotFound", f"Alarm {name} not found")
            await self.alarms.delete(names)

    async def set_alarm_state(self, request: Params, context: RequestContext) -> None:
        name = request["AlarmName"]
        state = request["StateValue"]
        data = request.get("StateReasonData")
        if data is not None:
            try:
                json.loads(data)
            except ValueError:
                raise ServiceError("InvalidFormat", "StateReasonData is not valid JSON") from None
        async with self._lock:
            alarm = await self.alarms.get(name)
            if alarm is None:
                raise ServiceError("ResourceNotFound", f"Alarm {name} not found")
            await self._transition(alarm, state, request["StateReason"], data, self.clock())

    async def describe_alarm_history(self, request: Params, context: RequestContext) -> Params:
        name = request.get("AlarmName")
        names = [name] if name else await self.history.alarms()
        newest_first = request.get("ScanBy", "TimestampDescending") == "TimestampDescending"
        items: list[Params] = []
        for one in names:
            items.extend(await self.history.items(one, newest_first=newest_first))
        items.sort(key=lambda i: i["Timestamp"], reverse=newest_first)
        kind = request.get("HistoryItemType")
        if kind:
            items = [i for i in items if i["HistoryItemType"] == kind]
        if request.get("StartDate") is not None:
            low = epoch_of(request["StartDate"])
            items = [i for i in items if i["Timestamp"] >= low]
        if request.get("EndDate") is not None:
            high = epoch_of(request["EndDate"])
            items = [i for i in items if i["Timestamp"] <= high]
        limit = int(request.get("MaxRecords") or 100)
        start = token_of(request.get("NextToken"))
        result: Params = {"AlarmHistoryItems": items[start : start + limit]}
        if start + limit < len(items):
            result["NextToken"] = str(start + limit)
        return result

    async def evaluate_alarms(self) -> None:
        """Evaluate every alarm now; run the actions of those whose state changed."""
        await self.flush()
        now = self.clock()
        async with self._lock:
            for alarm in await self.alarms.all():
                rule = alarm_rules.Rule(
                    alarm["Period"] if "Period" in alarm else _metrics_period(alarm["Metrics"]),
                    alarm["EvaluationPeriods"],
                    alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"],
                    alarm["ComparisonOperator"],
                    alarm["Threshold"],
                    alarm.get("TreatMissingData", "missing"),
                    alarm.get("Statistic") or alarm.get("ExtendedStatistic") or "Sum",
                )
                try:
                    values = await self._alarm_values(alarm, rule, now)
                except ServiceError:  # an expression that cannot be evaluated: no data
                    log.warning("alarm %s: its metrics cannot be read", alarm["AlarmName"])
                    values = {}
                verdict = alarm_rules.evaluate(rule, values, alarm["StateValue"], now)
                if verdict.state != alarm["StateValue"]:
                    await self._transition(
                        alarm, verdict.state, verdict.reason, verdict.reason_data, now
                    )

    async def _alarm_values(
        self, alarm: Params, rule: alarm_rules.Rule, now: float
    ) -> dict[int, float]:
        """The value of each of the periods ``rule`` evaluates at ``now`` that has data."""
        starts = alarm_rules.periods(rule, now)
        end = starts[-1] + rule.period_s
        if "Metrics" in alarm:
            request = {
                "MetricDataQueries": alarm["Metrics"],
                "StartTime": starts[0],
                "EndTime": end,
            }
            answer = await get_metric_data(self.series, request, now)
            [result] = answer["MetricDataResults"]
            pairs = zip(result["Timestamps"], result["Values"], strict=True)
            return {int(t): v for t, v in pairs}
        sets = await period_sets(self.series, key_of(alarm), starts[0], end, rule.period_s, now)
        return {
            t: v
            for t, s in sets.items()
            if (alarm.get("Unit") is None or s.unit == alarm["Unit"])
            and (v := value_of(s, rule.statistic)) is not None
        }

    async def _transition(
        self, alarm: Params, state: str, reason: str, data: str | None, now: float
    ) -> None:
        old_state, old_reason = alarm["StateValue"], alarm.get("StateReason", "")
        name = alarm["AlarmName"]
        alarm.update(StateValue=state, StateReason=reason, StateUpdatedTimestamp=now)
        if data is not None:
            alarm["StateReasonData"] = data
        if state != old_state:
            alarm["StateTransitionedTimestamp"] = now
        await self.alarms.put(name, alarm)
        await self.history.add(
            name,
            now,
            {
                "AlarmName": name,
                "AlarmType": "MetricAlarm",
                "Timestamp": now,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old_state} to {state}",
                "HistoryData": json.dumps(
                    {
                        "version": "1.0",
                        "oldState": {"stateValue": old_state, "stateReason": old_reason},
                        "newState": {"stateValue": state, "stateReason": reason},
                    }
                ),
            },
        )
        if state == old_state or not alarm.get("ActionsEnabled", True):
            return
        actions = {
            "ALARM": alarm.get("AlarmActions", []),
            "OK": alarm.get("OKActions", []),
            "INSUFFICIENT_DATA": alarm.get("InsufficientDataActions", []),
        }[state]
        for action in actions:
            await self._act(alarm, action, old_state, now)

    async def _act(self, alarm: Params, action: str, old_state: str, now: float) -> None:
        name = alarm["AlarmName"]
        if action.startswith("arn:aws:sns:") and self.publish is not None:
            subject, message = alarm_rules.notification(
                alarm, old_state, self.region, self.account_id, now
            )
            try:
                await self.publish(action, subject, message)
                summary = f"Successfully executed action {action}"
            except Exception as error:  # a missing topic, a store failure: recorded, not raised
                summary = f"Failed to execute action {action}. Received error: {error}"
        else:
            summary = f"Failed to execute action {action}: skylet runs only SNS actions"
        succeeded = summary.startswith("Successfully")
        await self.history.add(
            name,
            now,
            {
                "AlarmName": name,
                "AlarmType": "MetricAlarm",
                "Timestamp": now,
                "HistoryItemType": "Action",
                "HistorySummary": summary,
                "HistoryData": json.dumps({"actionState": "Succeeded" if succeeded else "Failed"}),
            },
        )


_SINGLE_METRIC = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Unit")


def _check_metric(request: Params) -> None:
    """An alarm on one metric: its name, namespace, period and one statistic."""
    for needed in ("MetricName", "Namespace", "Period"):
        if request.get(needed) is None:
            raise ServiceError("ValidationError", f"{needed} must not be null.", status=400)
    statistic, extended = request.get("Statistic"), request.get("ExtendedStatistic")
    if (statistic is None) == (extended is None):
        raise ServiceError(
            "ValidationError",
            "Exactly one of Statistic and ExtendedStatistic must be given.",
            status=400,
        )
    if extended is not None and percentile_of(extended) is None:
        raise ServiceError("ValidationError", f"Invalid extended statistic: {extended}", status=400)


def _check_metrics(request: Params) -> int:
    """A metric math alarm: ``Metrics`` alone, one query returning data; its period."""
    if any(request.get(k) for k in (*_SINGLE_METRIC, "Period")):
        raise ServiceError(
            "ValidationError",
            "Metrics cannot be given with MetricName, Namespace, Statistic, ExtendedStatistic, "
            "Dimensions, Period or Unit.",
            status=400,
        )
    metrics: Sequence[Params] = request["Metrics"]
    if sum(1 for q in metrics if q.get("ReturnData", True)) != 1:
        raise ServiceError(
            "ValidationError",
            "Exactly one element of the metrics list should return data.",
            status=400,
        )
    for query in metrics:
        if (query.get("MetricStat") is None) == (query.get("Expression") is None):
            raise ServiceError(
                "ValidationError",
                f"Query {query['Id']} needs exactly one of MetricStat and Expression.",
                status=400,
            )
    return _metrics_period(metrics)


def _metrics_period(metrics: Sequence[Params]) -> int:
    """The period of a metric math alarm: its metric stats' (one for all of them)."""
    found = {int(q["MetricStat"]["Period"]) for q in metrics if q.get("MetricStat")}
    if len(found) != 1:
        raise ServiceError(
            "ValidationError",
            "The metric stats of an alarm's Metrics must have one Period.",
            status=400,
        )
    return found.pop()
