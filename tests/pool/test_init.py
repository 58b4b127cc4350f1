"""Init with real processes: its limits, Lambda's retry of an on-demand init that timed out,
provisioned instances warming in the background, back-off after failed inits, and updates that
replace a version only once they are ready."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import time
from pathlib import Path

import pytest

from skylet.config import RuntimeSettings
from skylet.invoker.invoker import Invoker
from skylet.pool import provisioning
from tests.runtime_fixtures import FUNCTIONS, fn, running, until

pytestmark = pytest.mark.anyio


def _texts(invoker: Invoker, name: str) -> list[str]:
    return [entry.text for entry in invoker.logs.entries(name)]


def _init_reports(invoker: Invoker, name: str) -> list[str]:
    return [text for text in _texts(invoker, name) if "INIT_REPORT" in text]


async def test_deploying_and_stopping_wait_on_no_provisioned_init() -> None:
    functions = [
        fn("hang", "hanging_init.handler", provisioned_concurrency=2),
        fn("echo", "handlers.echo"),
    ]
    started = time.monotonic()
    async with running(functions) as invoker:
        deployed_s = time.monotonic() - started
        assert (await invoker.invoke("echo", b"{}")).function_error is None
        state, update = invoker.status("hang")
        assert (state.state, state.reason_code, update.status) == (
            "Pending",
            "Creating",
            "Successful",
        )
        stopping = time.monotonic()
    stopped_s = time.monotonic() - stopping
    assert deployed_s < 3.0
    assert stopped_s < 3.0


async def test_a_provisioned_init_past_its_limit_fails_the_function() -> None:
    settings = RuntimeSettings(provisioned_init_timeout_s=0.5)
    config = fn("hang", "hanging_init.handler", provisioned_concurrency=1, timeout_s=0.2)
    async with running([config], settings) as invoker:
        await until(lambda: invoker.status("hang").state.state == "Failed")
        state = invoker.status("hang").state
        assert state.reason_code == "FunctionError.InitTimeout"
        assert state.reason == "Sandbox.Timedout: Init timed out after 0.50 seconds"
        [report] = _init_reports(invoker, "hang")
        assert report.startswith("INIT_REPORT Init Duration: ")
        assert report.endswith("\tPhase: init\tStatus: timeout\t\n")


async def test_an_on_demand_init_past_10_s_runs_again_within_the_invocations_timeout() -> None:
    settings = RuntimeSettings(init_timeout_s=0.5)  # Lambda's 10 s, scaled down
    slow = fn("slow", "slow_init.handler", timeout_s=3.0, environment={"SLOW_INIT_S": "0.8"})
    async with running([slow], settings) as invoker:
        started = time.monotonic()
        result = await invoker.invoke("slow", b"{}", request_id="r-s")
        took = time.monotonic() - started
    assert result.function_error is None, result.payload
    assert 1.3 <= took < 3.5  # 0.5 s lost to the first init, then 0.8 s again
    [report] = _report_lines(result.log)
    assert "Init Duration" not in report  # a suppressed init is counted in the Duration
    duration_ms = float(report.split("Duration: ")[1].split(" ms")[0])
    assert duration_ms >= 800
    assert len(_init_reports(invoker, "slow")) == 1


def _report_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if line.startswith("REPORT")]


async def test_a_suppressed_init_that_overruns_the_timeout_is_sandbox_timedout() -> None:
    settings = RuntimeSettings(init_timeout_s=0.3)
    slow = fn("slow", "slow_init.handler", timeout_s=0.5, environment={"SLOW_INIT_S": "5"})
    async with running([slow], settings) as invoker:
        started = time.monotonic()
        result = await invoker.invoke("slow", b"{}")
        took = time.monotonic() - started
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
    assert 0.8 <= took < 2.5


async def test_a_provisioned_import_error_backs_off_reports_and_stays_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(provisioning, "RETRY_FIRST_S", 0.1)  # 0.1, 0.2, 0.4, 0.8 s
    config = fn("broken", "broken_import.handler", provisioned_concurrency=1)
    async with running([config]) as invoker:
        await until(lambda: len(_init_reports(invoker, "broken")) == provisioning.MAX_INIT_FAILURES)
        await asyncio.sleep(1.5)  # nothing more is started
        reports = invoker.logs.entries("broken")
        assert len(reports) == provisioning.MAX_INIT_FAILURES
        gaps = [b.timestamp - a.timestamp for a, b in itertools.pairwise(reports)]
        assert all(gap >= 0.09 * 2**i for i, gap in enumerate(gaps)), gaps
        assert invoker.stats("broken").instances == 0
        state = invoker.status("broken").state
        message = (
            "Unable to import module 'broken_import': No module named 'module_that_does_not_exist'"
        )
        assert state == provisioning.FunctionState(
            "Failed", f"Runtime.ImportModuleError: {message}", "FunctionError"
        )
        text = reports[0].text
        assert text.startswith(f"[ERROR] Runtime.ImportModuleError: {message}\n")
        assert "\tStatus: error\tError Type: Runtime.ImportModuleError\t\n" in text
        # Invocations still try their own init, and get its error.
        result = await invoker.invoke("broken", b"{}")
        assert json.loads(result.payload)["errorType"] == "Runtime.ImportModuleError"


async def test_a_failed_function_whose_own_init_succeeds_is_provisioned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provisioning, "RETRY_FIRST_S", 0.05)
    # Beside the code, which the sandbox shows as it is (unlike the test's /tmp).
    shutil.copy(FUNCTIONS / "slow_init.py", tmp_path)
    tmp_path.chmod(0o755)  # as a function's code is: readable by its own uid
    flag = tmp_path / "fail"
    flag.touch()
    config = fn(
        "flaky",
        "slow_init.handler",
        code_dir=tmp_path,
        provisioned_concurrency=1,
        environment={"FAIL_INIT_IF": str(flag)},
    )
    async with running([config]) as invoker:
        await until(lambda: invoker.status("flaky").state.state == "Failed")
        flag.unlink()
        assert (await invoker.invoke("flaky", b"{}")).function_error is None
        await until(lambda: invoker.status("flaky").state.state == "Active")
        await until(lambda: invoker.stats("flaky").idle >= 1)


async def test_an_update_replaces_the_running_version_once_its_instances_are_ready() -> None:
    old = fn("f", "slow_init.handler", provisioned_concurrency=1, environment={"VERSION": "1"})
    new = fn(
        "f",
        "slow_init.handler",
        provisioned_concurrency=1,
        environment={"VERSION": "2", "SLOW_INIT_S": "0.6"},
    )
    async with running([old]) as invoker:
        await until(lambda: invoker.status("f").state.state == "Active")
        await invoker.deploy([new])
        assert invoker.status("f").last_update.status == "InProgress"
        during = json.loads((await invoker.invoke("f", b"{}")).payload)
        await until(lambda: invoker.status("f").last_update.status == "Successful")
        after = json.loads((await invoker.invoke("f", b"{}")).payload)
    assert (during["version"], after["version"]) == ("1", "2")


async def test_an_update_whose_init_fails_leaves_the_old_version_serving() -> None:
    old = fn("f", "handlers.echo", provisioned_concurrency=1)
    new = fn("f", "broken_import.handler", provisioned_concurrency=1)
    async with running([old, fn("other", "handlers.echo")]) as invoker:
        await until(lambda: invoker.status("f").state.state == "Active")
        await invoker.deploy([new, fn("other", "handlers.echo")])
        await until(lambda: invoker.status("f").last_update.status == "Failed")
        state, update = invoker.status("f")
        assert state.state == "Active"
        assert update.reason_code == "FunctionError"
        assert update.reason is not None and "Runtime.ImportModuleError" in update.reason
        assert invoker.function("f").handler == "handlers.echo"
        assert (await invoker.invoke("f", b"{}")).function_error is None
        assert (await invoker.invoke("other", b"{}")).function_error is None


async def test_deploying_a_failed_update_again_keeps_it_failed_without_retrying() -> None:
    """A reload that changed nothing about a failed update (another file was saved) does not
    start its init again, and its failure stays on record until its code changes."""
    old = fn("f", "handlers.echo", provisioned_concurrency=1)
    new = fn("f", "broken_import.handler", provisioned_concurrency=1)
    async with running([old]) as invoker:
        await until(lambda: invoker.status("f").state.state == "Active")
        await invoker.deploy([new])
        await until(lambda: invoker.status("f").last_update.status == "Failed")
        failure = invoker.status("f").last_update
        await invoker.deploy([new])
        assert invoker.status("f").last_update == failure
        await invoker.deploy([old])
        assert invoker.status("f").last_update.status == "Successful"


async def test_deploying_the_running_version_again_abandons_a_hanging_update() -> None:
    old = fn("f", "handlers.echo", provisioned_concurrency=1)
    new = fn("f", "hanging_init.handler", provisioned_concurrency=1)
    async with running([old]) as invoker:
        await until(lambda: invoker.status("f").state.state == "Active")
        await invoker.deploy([new])
        assert invoker.status("f").last_update.status == "InProgress"
        await invoker.deploy([old])
        assert invoker.status("f").last_update.status == "Successful"
        assert invoker.code_dirs() == {old.code_dir}
        assert (await invoker.invoke("f", b"{}")).function_error is None


async def test_invocations_do_not_wait_behind_a_provisioned_init() -> None:
    settings = RuntimeSettings(init_timeout_s=0.3)  # provisioned ones keep 130 s
    config = fn("hang", "hanging_init.handler", provisioned_concurrency=1, timeout_s=0.5)
    async with running([config], settings) as invoker:
        started = time.monotonic()
        result = await invoker.invoke("hang", b"{}")
        took = time.monotonic() - started
        assert invoker.status("hang").state.state == "Pending"
    assert json.loads(result.payload)["errorType"] == "Sandbox.Timedout"
    assert took < 3.0  # on demand: 0.3 s of init, then 0.5 s for init and handler
