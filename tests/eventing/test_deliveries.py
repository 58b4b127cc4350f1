"""The delivery loop on a real SQLite store, with a scripted subscriber: tries counted per the
delivery spec, answers Knative does not retry, dead letters, and the TTL that ends reply loops."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skylet.errors import ResourceNotFound
from skylet.eventing.brokers import Brokers
from skylet.eventing.deliveries import Deliveries, DeliverySettings
from skylet.eventing.filters import compile_filter
from skylet.eventing.policy import Policy
from skylet.eventing.subscribers import Answer, Sender
from skylet.eventing.topology import Sink, Topology, Trigger
from skylet.store.sqlite import SqliteStore


class NoFunctions:
    def function(self, name: str, qualifier: str | None = None) -> Any:
        raise ResourceNotFound(name)


class Scripted(Sender):
    """Answers each try with ``script(sink, event)``, and remembers the tries."""

    def __init__(self, script: Callable[[str, dict[str, Any]], Answer]) -> None:
        super().__init__(NoFunctions())  # type: ignore[arg-type]
        self.script = script
        self.tries: list[tuple[str, dict[str, Any]]] = []

    async def to_function(self, name: str, event: Any, timeout_s: float | None) -> Answer:
        self.tries.append((name, event))
        return self.script(name, event)


def topology(policy: Policy, dead: Sink | None = None) -> Topology:
    trigger = Trigger("t", "default", Sink("function", "sub"), policy, dead, compile_filter())
    return Topology({"default": "default"}, {"t": trigger}, {"default": (trigger,)})


async def run(tmp_path: Path, top: Topology, sender: Scripted, until: Callable[[], bool]) -> None:
    store = SqliteStore(tmp_path / "state.db")
    await store.start()
    brokers = Brokers(store)
    await brokers.start()
    brokers.deploy(top)
    deliveries = Deliveries(brokers, sender, settings=DeliverySettings(poll_s=0.05))
    await deliveries.start()
    try:
        await brokers.publish(
            "default", {"specversion": "1.0", "id": "e", "source": "/s", "type": "loop"}
        )
        for _ in range(500):
            if until():
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)  # anything that would still happen, happens
    finally:
        await deliveries.aclose()
        await brokers.aclose()
        await store.aclose()


def test_a_retried_answer_is_tried_retry_plus_one_times(tmp_path: Path) -> None:
    sender = Scripted(lambda sink, event: Answer(503, b"busy"))
    policy = Policy(retry=3, backoff="linear", delay_s=0.01)
    asyncio.run(run(tmp_path, topology(policy), sender, lambda: len(sender.tries) >= 4))
    assert len(sender.tries) == 4


@pytest.mark.parametrize("status", [400, 401, 413], ids=lambda s: f"{s} is not retried")
def test_answers_knative_does_not_retry_are_tried_once(tmp_path: Path, status: int) -> None:
    sender = Scripted(lambda sink, event: Answer(status))
    policy = Policy(retry=5, delay_s=0.01)
    asyncio.run(run(tmp_path, topology(policy), sender, lambda: len(sender.tries) >= 1))
    assert len(sender.tries) == 1


def test_the_dead_letter_carries_the_last_answer(tmp_path: Path) -> None:
    def script(sink: str, event: dict[str, Any]) -> Answer:
        return Answer(500, b"boom") if sink == "sub" else Answer(202)

    sender = Scripted(script)
    top = topology(Policy(retry=1, delay_s=0.01), dead=Sink("function", "dlq"))
    asyncio.run(run(tmp_path, top, sender, lambda: any(s == "dlq" for s, _ in sender.tries)))
    assert [s for s, _ in sender.tries] == ["sub", "sub", "dlq"]
    letter = sender.tries[-1][1]
    assert letter["knativeerrorcode"] == "500"
    assert base64.b64decode(letter["knativeerrordata"]) == b"boom"
    assert letter["knativeerrordest"].endswith("/2015-03-31/functions/sub/invocations")
    assert "knativebrokerttl" not in letter


def test_a_loop_of_replies_ends_when_the_broker_ttl_runs_out(tmp_path: Path) -> None:
    def reply(sink: str, event: dict[str, Any]) -> Answer:
        assert "knativebrokerttl" not in event  # subscribers never see it
        again = {"specversion": "1.0", "id": event["id"] + "+", "source": "/s", "type": "loop"}
        return Answer(200, reply=again)

    sender = Scripted(reply)
    asyncio.run(run(tmp_path, topology(Policy(retry=0)), sender, lambda: len(sender.tries) >= 255))
    assert len(sender.tries) == 255  # the first event and 254 replies: TTL 255 counted down


def test_a_reply_over_a_mebibyte_is_dropped(tmp_path: Path) -> None:
    def reply(sink: str, event: dict[str, Any]) -> Answer:
        big = {
            "specversion": "1.0",
            "id": "big",
            "source": "/s",
            "type": "loop",
            "data": "x" * (1 << 20),
        }
        return Answer(200, reply=big)

    sender = Scripted(reply)
    asyncio.run(run(tmp_path, topology(Policy(retry=0)), sender, lambda: len(sender.tries) >= 2))
    assert len(sender.tries) == 1
