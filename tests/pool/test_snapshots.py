"""Snapshots (``snap_start``) with real processes: the init runs once, in the function's
template; instances restore from it with the hooks of ``snapshot_restore_py`` and fresh random
state; REPORT says Restore Duration; an init that fails or hangs is reported, and the function
runs its own inits instead."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import pytest

from skylet.config import FunctionConfig, RuntimeSettings
from skylet.invoker.invoker import Invoker
from tests.runtime_fixtures import fn, running, until

pytestmark = pytest.mark.anyio


def _snap(**environment: str) -> FunctionConfig:
    return fn("snap", "snapshots.handler", snap_start=True, environment=environment)


async def _cold(invoker: Invoker, name: str = "snap") -> tuple[dict[str, Any], str]:
    invoker.scale_to_zero(name)
    result = await invoker.invoke(name, b"{}")
    assert result.function_error is None, result.payload
    assert result.cold
    return json.loads(result.payload), result.log


async def test_instances_restore_from_the_init_their_template_ran_once() -> None:
    async with running([_snap(SECRET="only-mine")]) as invoker:
        first, log = await _cold(invoker)
        second, _ = await _cold(invoker)
    assert first["init"] == second["init"], "one init, in the template"
    assert first["hooks"] == {"before": 1, "after": 1, "label": "restored"}
    assert second["hooks"]["after"] == 1  # each instance restores once, from the same state
    assert first["random"] != second["random"], "random state seeded again after restore"
    assert (first["type"], first["secret"]) == ("snap-start", "only-mine")
    assert "Restore Duration: " in log and "Billed Restore Duration: " in log
    assert "Init Duration" not in log


async def test_a_failed_snapshot_init_is_reported_and_the_function_runs_its_own_inits() -> None:
    async with running([_snap(FAIL="import")]) as invoker:
        result = await invoker.invoke("snap", b"{}")
        log = invoker.logs.entries("snap")
    error = json.loads(result.payload)
    assert error["errorType"] == "RuntimeError" and error["errorMessage"] == "the init fails"
    text = "".join(entry.text for entry in log)
    assert "init ran" in text
    assert (
        "INIT_REPORT Init Duration: " in text and "Status: error\tError Type: RuntimeError" in text
    )


async def test_a_failing_before_snapshot_hook_fails_the_snapshot() -> None:
    async with running([_snap(FAIL="before")]) as invoker:
        await until(lambda: bool(invoker.logs.entries("snap")))
        text = "".join(entry.text for entry in invoker.logs.entries("snap"))
    assert "Runtime.BeforeSnapshotError" in text


async def test_a_failing_after_restore_hook_fails_the_instance() -> None:
    async with running([_snap(FAIL="after")]) as invoker:
        result = await invoker.invoke("snap", b"{}")
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.AfterRestoreError"
    assert error["errorMessage"] == "ValueError: an after-restore hook fails"


async def test_a_snapshot_init_past_its_limit_is_reported_and_given_up() -> None:
    settings = RuntimeSettings(provisioned_init_timeout_s=0.3)
    slow = dataclasses.replace(_snap(SLOW_INIT_S="1"), timeout_s=0.3)
    async with running([slow], settings) as invoker:
        await until(lambda: bool(invoker.logs.entries("snap")))
        text = "".join(entry.text for entry in invoker.logs.entries("snap"))
        assert "Status: timeout" in text
        pool = invoker._pools["snap"]
        await until(lambda: pool.template.pid is not None and not pool.template.restoring)
        answer, log = await _cold(invoker)
    assert answer["type"] == "on-demand" and "Init Duration: " in log


async def test_skylets_snapshot_restore_py_is_there_for_every_function() -> None:
    async with running([fn("plain", "snapshots.handler")]) as invoker:
        answer = json.loads((await invoker.invoke("plain", b"{}")).payload)
    assert answer["hooks"] == {"before": 0, "after": 0}  # no snapshot: no hook runs
    assert answer["type"] == "on-demand"


async def test_concurrent_cold_starts_all_restore() -> None:
    async with running([_snap()]) as invoker:
        answers = await asyncio.gather(*(invoker.invoke("snap", b"{}") for _ in range(4)))
    inits = {json.loads(a.payload)["init"] for a in answers}
    assert len(inits) == 1 and all(a.function_error is None for a in answers)
