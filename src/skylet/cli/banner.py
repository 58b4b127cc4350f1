"""What ``skylet up`` lists beside its functions: the queues, topics and tables that exist,
and what each is wired to (event source mappings, destinations, dead-letter queues,
subscriptions, the functions a table's stream feeds); the brokers (their ingress URLs) and
triggers, when there are triggers.

``gather(platform)`` reads them (the store's queues and tables, SNS's catalog, the deployed
functions) into plain rows; ``show(out, inventory)`` prints the tables (plain aligned text when
piped). Nothing is listed for a project without queues, topics or tables.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from skylet.cli.output import Output
from skylet.config import Destination, FunctionConfig
from skylet.platform import Platform


@dataclass(frozen=True, slots=True)
class QueueLine:
    name: str
    url: str
    #: What uses the queue, in words: "feeds drain", "process onFailure", "DLQ of jobs".
    wiring: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicLine:
    name: str
    arn: str
    #: Its subscribers ("lambda notify", "sqs inbox", "https://… (pending)"), then the
    #: functions whose destinations publish to it.
    subscribers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TableLine:
    name: str
    #: The key schema in words: "id (S)", "ForumName (S) / Subject (S)".
    keys: str
    #: The stream's view type and ARN ("" without a stream).
    stream: str = ""
    stream_arn: str = ""
    #: The functions its stream feeds.
    feeds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TriggerLine:
    broker: str
    name: str
    #: The subscriber ("function orders", a URI), and its dead-letter sink if any.
    subscriber: str


@dataclass(frozen=True, slots=True)
class Inventory:
    queues: tuple[QueueLine, ...] = ()
    topics: tuple[TopicLine, ...] = ()
    tables: tuple[TableLine, ...] = ()
    triggers: tuple[TriggerLine, ...] = ()
    #: The brokers' ingress URL, by broker (listed when there are triggers).
    brokers: tuple[tuple[str, str], ...] = ()


async def gather(platform: Platform) -> Inventory:
    """The queues and topics as they are after start (SNS only if the project uses it)."""
    from skylet.aws.sqs import names

    functions = platform.functions()
    queues = [q for q in await platform.store.list_queues() if names.is_queue_name(q.name)]
    wiring: dict[str, list[str]] = {q.name: [] for q in queues}
    for mapping in platform.mappings.all():
        if mapping.queue in wiring:
            wiring[mapping.queue].append(f"feeds {mapping.function}")
    for fn, which, target in _destinations(functions):
        if target.kind == "queue" and target.name in wiring:
            wiring[target.name].append(f"{fn} {which}")
    for queue in queues:
        if queue.dead_letter_queue in wiring:
            wiring[queue.dead_letter_queue].append(f"DLQ of {queue.name}")
    topics: list[TopicLine] = []
    sns = platform.sns
    if sns is not None:
        catalog = sns.catalog
        for topic in sorted(catalog.topics.values(), key=lambda t: t.name):
            subscribers = [
                _subscriber(s.protocol, s.endpoint, s.pending) for s in catalog.of_topic(topic.arn)
            ]
            for fn, which, target in _destinations(functions):
                if target.kind == "topic" and target.name == topic.name:
                    subscribers.append(f"{fn} {which}")
            topics.append(TopicLine(topic.name, topic.arn, tuple(subscribers)))
        for s in catalog.subscriptions.values():
            if s.protocol == "sqs":
                subscriber = s.endpoint.rsplit(":", 1)[-1]
                if subscriber in wiring:
                    wiring[subscriber].append(f"subscribed to {s.topic_arn.rsplit(':', 1)[-1]}")
    lines = tuple(
        QueueLine(q.name, platform.sqs.url(q.name), tuple(wiring[q.name]))
        for q in sorted(queues, key=lambda q: q.name)
    )
    topology = platform.brokers.topology
    triggers = tuple(
        TriggerLine(
            t.broker,
            t.name,
            t.subscriber.describe()
            + (f" (dead letters: {t.dead_letter.describe()})" if t.dead_letter else ""),
        )
        for t in sorted(topology.triggers.values(), key=lambda t: (t.broker, t.name))
        if t.broker  # not a PingSource's own delivery
    )
    base = platform.broker_deliveries.endpoint
    brokers = tuple((b, f"{base}/_skylet/brokers/{b}") for b in sorted(topology.brokers))
    return Inventory(
        lines, tuple(topics), await _tables(platform), triggers, brokers if triggers else ()
    )


async def _tables(platform: Platform) -> tuple[TableLine, ...]:
    from skylet.errors import SkyletError

    feeds: dict[str, list[str]] = {}
    for mapping in platform.stream_mappings.all():
        if mapping.enabled:
            feeds.setdefault(mapping.table, []).append(mapping.function)
    found = []
    for config in await platform.store.list_tables():
        if "/" in config.name:  # an index's rows
            continue
        try:
            table = await platform.tables.table(config.name)
        except SkyletError:
            continue
        schema = table.schema
        keys = f"{schema.partition} ({schema.partition_type})"
        if schema.sort:
            keys += f" / {schema.sort} ({schema.sort_type})"
        view = table.stream_view or ""
        arn = str(table.description.get("LatestStreamArn", "")) if view else ""
        found.append(
            TableLine(table.name, keys, view, arn, tuple(sorted(feeds.get(table.name, []))))
        )
    return tuple(sorted(found, key=lambda t: t.name))


def show(out: Output, inventory: Inventory) -> None:
    if inventory.queues:
        out.table(
            "SQS queues",
            ["queue", "url", "wired to"],
            [[q.name, q.url, ", ".join(q.wiring) or "-"] for q in inventory.queues],
        )
    if inventory.topics:
        out.table(
            "SNS topics",
            ["topic", "subscribers", "arn"],
            [[t.name, ", ".join(t.subscribers) or "-", t.arn] for t in inventory.topics],
        )
    if inventory.tables:
        out.table(
            "DynamoDB tables",
            ["table", "keys", "stream", "feeds", "stream arn"],
            [
                [t.name, t.keys, t.stream or "-", ", ".join(t.feeds) or "-", t.stream_arn or "-"]
                for t in inventory.tables
            ],
        )
    if inventory.brokers:
        out.table("Brokers", ["broker", "ingress"], [list(b) for b in inventory.brokers])
    if inventory.triggers:
        out.table(
            "Triggers",
            ["broker", "trigger", "subscriber"],
            [[t.broker, t.name, t.subscriber] for t in inventory.triggers],
        )


def _destinations(
    functions: Iterable[FunctionConfig],
) -> Iterable[tuple[str, str, Destination]]:
    for fn in functions:
        config = fn.async_config
        for which, target in (
            ("onSuccess", config.on_success),
            ("onFailure", config.on_failure),
            ("DLQ", config.dead_letter_queue),
        ):
            if target is not None:
                yield fn.name, which, target


def _subscriber(protocol: str, endpoint: str, pending: bool) -> str:
    """``lambda NAME`` and ``sqs NAME`` from their ARNs (a function's qualifier kept); an
    HTTP(S) endpoint as its URL."""
    if protocol == "lambda" and ":function:" in endpoint:
        short = endpoint.split(":function:", 1)[1]
    elif protocol == "sqs":
        short = endpoint.rsplit(":", 1)[-1]
    else:
        short = endpoint
    return f"{protocol} {short}" + (" (pending)" if pending else "")
