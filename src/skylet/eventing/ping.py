"""Knative's PingSource on skylet's scheduler: a 5-field cron (and time zone) that sends
``dev.knative.sources.ping`` with the source's data into its sink.

Each PingSource is a schedule named ``pingsource-NAMESPACE-NAME`` (``skylet schedule ls``
lists it) of kind "ping". A fire is the event::

    {"specversion": "1.0", "type": "dev.knative.sources.ping",
     "source": "/apis/v1/namespaces/NAMESPACE/pingsources/NAME",
     "id": <the same for the same fire>, "time": <the due minute>,
     "datacontenttype": <contentType, when given>, "data": <data>}

into a broker (published there: its triggers take it), or into a function or URI (a durable
delivery job, retried as a trigger with Knative's default delivery is). Like every schedule,
a fire is sent once however many nodes run, and a fire missed while skylet was down runs once
within the scheduler's grace period (docs/eventbridge.md).
"""

from __future__ import annotations

import base64
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from skylet import fastjson
from skylet.errors import ConfigError
from skylet.eventing.brokers import Brokers, job
from skylet.eventing.cloudevent import Event
from skylet.eventing.topology import Ping, Topology
from skylet.schedules.plan import Schedule
from skylet.schedules.targets import fire_id
from skylet.schedules.timetable import Timetable

PING_TYPE = "dev.knative.sources.ping"


def schedules(topology: Topology) -> tuple[Schedule, ...]:
    """The scheduler's schedules for the topology's PingSources; ConfigError for a bad zone."""
    out = []
    for ping in topology.pings:
        tz = None
        if ping.source.timezone:
            try:
                tz = ZoneInfo(ping.source.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(
                    f"{ping.source.where}: spec.timezone {ping.source.timezone!r} is not an "
                    "IANA time zone"
                ) from None
        out.append(
            Schedule(
                name=ping.schedule,
                function=ping.sink.describe(),
                expression=ping.source.schedule,
                timetable=Timetable.compile(ping.source.schedule),
                tz=tz,
                kind="ping",
            )
        )
    return tuple(out)


def ping_event(ping: Ping, due: datetime, event_id: str) -> Event:
    event: Event = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"/apis/v1/namespaces/{ping.namespace}/pingsources/{ping.name}",
        "type": PING_TYPE,
        "time": due.isoformat().replace("+00:00", "Z"),
    }
    if ping.content_type:
        event["datacontenttype"] = ping.content_type
    if ping.data:
        mime = ping.content_type.split(";", 1)[0].strip().lower()
        if mime == "application/json" or mime.endswith("+json"):
            try:
                event["data"] = fastjson.loads(ping.data)
                return event
            except ValueError:
                pass
        try:
            event["data"] = ping.data.decode()
        except UnicodeDecodeError:
            event["data_base64"] = base64.b64encode(ping.data).decode()
    return event


class PingFires:
    """``ScheduleTargets.ping``: one fire of one PingSource, durable when it returns."""

    def __init__(self, brokers: Brokers) -> None:
        self.brokers = brokers

    async def __call__(self, schedule: Schedule, due: datetime) -> None:
        topology = self.brokers.topology
        ping = next((p for p in topology.pings if p.schedule == schedule.name), None)
        if ping is None:
            return
        event = ping_event(ping, due, fire_id(schedule.name, due))
        if ping.sink.kind == "broker":
            await self.brokers.publish(ping.sink.target, event)
        else:
            await self.brokers.enqueue(job(ping.trigger, event))
