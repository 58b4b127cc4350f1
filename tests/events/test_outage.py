"""PostgreSQL cut off under load: ``skylet up`` answers Event invocations with 503 and AWS's
error body, stays up, recovers by itself when the database is back, and runs and records
every event it accepted. The database sits behind a TCP proxy that the test cuts (the
machine's PostgreSQL server keeps running)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from skylet.config import FunctionConfig
from skylet.errors import ServiceUnavailable, StoreUnavailable
from skylet.events.async_invoke import AsyncInvoker
from skylet.events.records import RecordBook
from skylet.store.postgres import PostgresStore
from tests.e2e.conftest import start_server, stop_server
from tests.store.proxy import TcpProxy, url_through

from .served import final_records, invocations_url, ran, write_project

pytestmark = [pytest.mark.anyio, pytest.mark.postgres, pytest.mark.e2e]

SENDERS = 8
OUTAGE_S = 12.0
EVENT = {"X-Amz-Invocation-Type": "Event"}


@dataclass
class Load:
    """What the senders got, by phase of the outage (``changing``: answered in another phase
    than the one it was sent in)."""

    phase: str = "before"
    accepted: list[str] = field(default_factory=list)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    refusals: list[httpx.Response] = field(default_factory=list)
    accepted_after: int = 0

    def count(self, phase: str, status: int) -> int:
        return self.statuses[(phase, status)]


async def send_until(url: str, load: Load, stop: asyncio.Event, sender: int) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        n = 0
        while not stop.is_set():
            payload = json.dumps({"sender": sender, "n": n}).encode()
            n += 1
            sent_in = load.phase
            response = await client.post(url, content=payload, headers=EVENT)
            # A request that straddles a cut or a restore may go either way.
            phase = sent_in if load.phase == sent_in else "changing"
            load.statuses[(phase, response.status_code)] += 1
            if response.status_code == 202:
                load.accepted.append(response.headers["x-amzn-requestid"])
                if phase == "restored":
                    load.accepted_after += 1
            else:
                load.refusals.append(response)


class Functions:
    def __init__(self, fn: FunctionConfig) -> None:
        self.fn = fn

    def function(self, name: str, qualifier: str | None = None) -> FunctionConfig:
        return self.fn


async def test_an_event_that_cannot_be_stored_is_a_503_but_a_destination_batch_is_retried(
    tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    store = PostgresStore(url_through(url, proxy.port), schema=schema, timeout_s=1)
    await store.start()
    fn = FunctionConfig("orders", "h.handler", tmp_path)
    async_invoker = AsyncInvoker(store, RecordBook(store), Functions(fn))
    try:
        await async_invoker.enqueue("orders", b"{}")  # the queue and the log exist
        await proxy.cut()

        with pytest.raises(ServiceUnavailable) as caught:
            await async_invoker.enqueue("orders", b'{"n": 1}')
        assert (caught.value.status, caught.value.code) == (503, "ServiceException")
        assert caught.value.message.startswith(
            "Could not queue the event: skylet's durable store is unavailable (PostgreSQL"
        )
        assert isinstance(caught.value.__cause__, StoreUnavailable)
        # Destinations use enqueue_batch: a platform failure there is retried, not dropped
        # as a refused record, so it stays a StoreUnavailable.
        with pytest.raises(StoreUnavailable):
            await async_invoker.enqueue_batch("orders", [b'{"n": 2}'])
    finally:
        await proxy.restore()
        await async_invoker.aclose()
        await store.aclose()
        await proxy.aclose()


async def until(check: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.05)


async def test_postgresql_cut_off_under_load_gives_503s_then_skylet_recovers_and_loses_nothing(
    tmp_path: Path, code_dir: Path, pg_schema: tuple[str, str]
) -> None:
    url, schema = pg_schema
    parts = urlsplit(url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    out = tmp_path / "calls.jsonl"
    project = write_project(code_dir, out, tmp_path / "no-gate", handler="sink")
    store = f"{url_through(url, proxy.port)}?schema={schema}"
    # The handler records its calls in a file the test reads: no sandbox (its /tmp is private).
    server = await asyncio.to_thread(
        start_server, project, "--no-reload", "--no-sandbox", "--store", store
    )
    load, stop = Load(), asyncio.Event()
    target = invocations_url(server.url)
    senders = [asyncio.create_task(send_until(target, load, stop, k)) for k in range(SENDERS)]
    try:
        await until(lambda: len(load.accepted) >= 300, "events accepted before the cut")

        await proxy.cut()
        load.phase = "cut"
        cut_at = time.monotonic()
        # Longer than a lease (held events come back), than the pool's reconnect round and
        # than the dispatcher's longest backoff (5 s each).
        await until(
            lambda: load.count("cut", 503) >= 3 * SENDERS and time.monotonic() - cut_at > OUTAGE_S,
            "503s while cut off",
        )
        assert server.proc.poll() is None, server.output()

        await proxy.restore()
        load.phase = "restored"
        await until(lambda: load.accepted_after >= 300, "events accepted after the database")
        stop.set()
        await asyncio.gather(*senders)  # a sender's failure shows here
        assert server.proc.poll() is None, server.output()

        # Anything but a 202 was a 503 in AWS's shape, with a message that says why.
        assert {status for _, status in load.statuses} <= {202, 503}, load.statuses
        assert load.count("before", 503) == 0
        for response in load.refusals:
            assert response.headers["x-amzn-errortype"] == "ServiceException"
            body = response.json()
            assert body["Type"] == "Service"
            assert "durable store is unavailable" in body["message"]
            assert "PostgreSQL" in body["message"]

        # Every accepted event runs and is recorded final (more than once only if its lease
        # ran out during the outage: at least once).
        async def all_recorded() -> bool:
            finals, _ = await final_records(PostgresStore(url, schema=schema))
            return set(load.accepted) <= set(finals)

        deadline = time.monotonic() + 60
        while not await all_recorded():
            assert time.monotonic() < deadline, "accepted events were not all recorded"
            await asyncio.sleep(0.2)
        assert set(load.accepted) <= set(ran(out))
    finally:
        stop.set()
        await asyncio.to_thread(stop_server, server)
        await asyncio.gather(*senders, return_exceptions=True)
        await proxy.aclose()
