"""Lambda's JSON log format with real instances: the platform's records, the Python runtime's
records from ``logging`` with the application log level, uncaught errors, and the system log
level's filter."""

from __future__ import annotations

import json
from typing import Any

import pytest

from skylet.config import LoggingConfig
from tests.runtime_fixtures import fn, running, until

pytestmark = pytest.mark.anyio


def _records(log: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


async def test_json_format_writes_platform_and_application_records() -> None:
    config = fn("orders", "json_logs.handler", logging=LoggingConfig(log_format="JSON"))
    async with running([config]) as invoker:
        result = await invoker.invoke("orders", b"{}", request_id="req-j")
    records = _records(result.log)
    kinds = [r.get("type") for r in records if "type" in r]
    assert kinds == ["platform.initStart", "platform.start", "platform.report"]
    init, start, report = (r for r in records if "type" in r)
    assert init["record"]["functionName"] == "orders"
    assert init["record"]["phase"] == "init"
    assert init["record"]["initializationType"] == "on-demand"
    assert start["record"] == {"requestId": "req-j", "version": "$LATEST"}
    metrics = report["record"]["metrics"]
    assert set(metrics) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert metrics["memorySizeMB"] == 128
    assert report["record"]["status"] == "success"
    assert report["time"].endswith("Z")
    placed = next(r for r in records if r.get("message") == "placed")
    assert placed["level"] == "INFO"
    assert placed["logger"] == "shop.orders"
    assert placed["requestId"] == "req-j"
    assert (placed["order_id"], placed["items"]) == ("o-1", 3)
    assert placed["timestamp"].endswith("Z") and len(placed["timestamp"]) == 24
    failed = next(r for r in records if r.get("message") == "lookup failed")
    assert failed["level"] == "ERROR"
    assert (failed["errorType"], failed["errorMessage"]) == ("KeyError", "'sku'")
    assert failed["stackTrace"] and "json_logs.py" in failed["location"]
    assert "debug detail" not in result.log  # INFO, the default application log level
    assert "a plain print\n" in result.log
    assert "START RequestId" not in result.log and "REPORT RequestId" not in result.log


async def test_application_and_system_levels_filter_their_records() -> None:
    logging_config = LoggingConfig(
        log_format="JSON", application_log_level="DEBUG", system_log_level="WARN"
    )
    config = fn("orders", "json_logs.handler", logging=logging_config)
    async with running([config]) as invoker:
        result = await invoker.invoke("orders", b"{}")
    records = _records(result.log)
    assert not [r for r in records if "type" in r]
    assert any(r.get("message") == "debug detail" for r in records)


async def test_an_uncaught_error_is_one_json_record() -> None:
    config = fn("orders", "json_logs.handler", logging=LoggingConfig(log_format="JSON"))
    async with running([config]) as invoker:
        result = await invoker.invoke("orders", b'{"fail": true}', request_id="req-e")
    records = _records(result.log)
    error = next(r for r in records if r.get("log_level") == "ERROR")
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad order")
    assert error["requestId"] == "req-e"
    assert isinstance(error["stackTrace"], list)
    # As the text REPORT: the runtime itself finished normally (no Status there either).
    report = next(r for r in records if r.get("type") == "platform.report")
    assert report["record"]["status"] == "success"


async def test_text_stays_the_default_with_lambdas_lines() -> None:
    async with running([fn("orders", "json_logs.handler")]) as invoker:
        result = await invoker.invoke("orders", b"{}", request_id="req-t")
    assert result.log.startswith("START RequestId: req-t Version: $LATEST\n")
    assert "[ERROR]\t" in result.log and "lookup failed" in result.log
    assert "placed" not in result.log  # WARNING, Python's default, as on Lambda
    assert not _records(result.log)


async def test_the_platform_drops_json_records_below_the_application_level() -> None:
    logging_config = LoggingConfig(log_format="JSON", application_log_level="WARN")
    config = fn("chatty", "json_logs.own_level", logging=logging_config)
    async with running([config]) as invoker:
        result = await invoker.invoke("chatty", b"{}")
    assert "worth seeing" in result.log and "plain text stays" in result.log
    assert "very detailed" not in result.log and "printed json" not in result.log


async def test_a_failed_init_ends_with_platform_init_report() -> None:
    config = fn(
        "broken",
        "broken_init.handler",
        provisioned_concurrency=1,
        logging=LoggingConfig(log_format="JSON"),
    )
    async with running([config]) as invoker:
        await until(lambda: bool(invoker.logs.entries("broken")))
        text = invoker.logs.entries("broken")[0].text
    report = _records(text)[-1]
    assert report["type"] == "platform.initReport"
    assert report["record"]["phase"] == "init" and report["record"]["status"] == "error"
    assert report["record"]["errorType"] == "RuntimeError"
    assert report["record"]["metrics"]["durationMs"] > 0
    assert "INIT_REPORT" not in text


async def test_lambdas_logging_variables_are_set_in_the_json_format_only() -> None:
    logging_config = LoggingConfig(
        log_format="JSON", application_log_level="DEBUG", log_group="/custom/echo"
    )
    functions = [fn("json", "handlers.echo", logging=logging_config), fn("text", "handlers.echo")]
    async with running(functions) as invoker:
        shown = json.loads((await invoker.invoke("json", b"{}")).payload)
        plain = json.loads((await invoker.invoke("text", b"{}")).payload)
    assert shown["env"]["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert shown["env"]["AWS_LAMBDA_LOG_LEVEL"] == "DEBUG"
    assert shown["env"]["AWS_LAMBDA_LOG_GROUP_NAME"] == shown["log_group"] == "/custom/echo"
    assert "AWS_LAMBDA_LOG_FORMAT" not in plain["env"]
    assert "AWS_LAMBDA_LOG_LEVEL" not in plain["env"]
