"""The invoker with real instances: Lambda's results, errors, logs and limits."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from skylet.errors import InvalidRequestContent, ResourceNotFound
from tests.runtime_fixtures import FUNCTIONS, alive, fn, instance_pids, running, started_below

pytestmark = pytest.mark.anyio


async def test_warm_invocations_reuse_the_instance_and_its_globals() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        first = await invoker.invoke("echo", b'{"n": 1}')
        second = await invoker.invoke("echo", b'{"n": 2}')
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert (one["calls"], two["calls"]) == (1, 2)
    assert one["instance"] == two["instance"]
    assert one["pid"] == one["init_pid"]
    assert (first.cold, second.cold) == (True, False)
    assert two["event"] == {"n": 2}


async def test_context_and_environment_match_lambda() -> None:
    config = fn("echo", "handlers.echo", memory_mb=256, environment={"GREETING": "hi"})
    async with running([config]) as invoker:
        result = await invoker.invoke(
            "echo", b"{}", client_context={"custom": {"k": "v"}}, request_id="req-1"
        )
    body = json.loads(result.payload)
    assert body["request_id"] == "req-1"
    assert body["function_name"] == "echo"
    assert body["function_version"] == "$LATEST"
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:echo"
    assert body["memory"] == "256"
    assert body["log_group"] == "/aws/lambda/echo"
    assert "/[$LATEST]" in body["log_stream"]
    assert 0 < body["remaining_ms"] <= 5000
    assert body["client_custom"] == {"k": "v"}
    assert body["identity"] is None
    assert body["cwd"] == str(FUNCTIONS)
    env = body["env"]
    assert env["GREETING"] == "hi"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/echo"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "handlers.echo"
    assert env["LAMBDA_TASK_ROOT"] == str(FUNCTIONS)
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["TZ"] == ":UTC"


async def test_log_has_start_end_report_and_the_function_output() -> None:
    async with running([fn("echo", "handlers.echo", memory_mb=192)]) as invoker:
        cold = await invoker.invoke("echo", b"{}", request_id="r-cold")
        warm = await invoker.invoke("echo", b"{}", request_id="r-warm")
    lines = cold.log.splitlines()
    assert lines[0] == "START RequestId: r-cold Version: $LATEST"
    assert lines[1] == "echo call 1"
    assert lines[2] == "END RequestId: r-cold"
    report = lines[3].split("\t")
    assert report[0] == "REPORT RequestId: r-cold"
    assert report[1].startswith("Duration: ") and report[1].endswith(" ms")
    assert report[2].startswith("Billed Duration: ")
    assert report[3] == "Memory Size: 192 MB"
    assert report[4].startswith("Max Memory Used: ")
    assert report[5].startswith("Init Duration: ")
    assert "Init Duration" not in warm.log
    assert base64.b64decode(warm.log_tail_b64()).decode() == warm.log
    kept = invoker.logs.entries("echo")
    assert [e.request_id for e in kept] == ["r-cold", "r-warm"]


async def test_unhandled_exception_returns_lambdas_error_document() -> None:
    async with running([fn("fail", "handlers.fail")]) as invoker:
        result = await invoker.invoke("fail", b"{}", request_id="r-1")
    assert result.function_error == "Unhandled"
    error = json.loads(result.payload)
    assert error["errorMessage"] == "something broke"
    assert error["errorType"] == "ValueError"
    assert error["requestId"] == "r-1"
    assert error["stackTrace"][0].startswith(f'  File "{FUNCTIONS}/handlers.py", line ')
    assert "in fail" in error["stackTrace"][0]
    assert "[ERROR] ValueError: something broke" in result.log


async def test_timeout_kills_the_instance_with_sandbox_timedout() -> None:
    async with running([fn("sleep", "handlers.sleep", timeout_s=1.0)]) as invoker:
        result = await invoker.invoke("sleep", b'{"seconds": 30}', request_id="r-t")
        assert invoker.stats("sleep").instances == 0
        again = await invoker.invoke("sleep", b'{"seconds": 0}')
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert error == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: r-t Error: Task timed out after 1.00 seconds",
    }
    assert "r-t Task timed out after 1.00 seconds" in result.log
    assert "Duration: 1000.00 ms" in result.log
    assert "Status: timeout" in result.log
    assert json.loads(again.payload) == "woke" and again.cold


@pytest.mark.parametrize(
    ("handler", "payload", "message"),
    [
        ("exit_now", b'{"code": 3}', "Runtime exited with error: exit status 3"),
        ("hard_exit", b"{}", "Runtime exited without providing a reason"),
        ("segfault", b"{}", "Runtime exited with error: signal: segmentation fault"),
    ],
    ids=["sys_exit_gives_exit_status", "os_exit_zero_gives_no_reason", "segfault_gives_signal"],
)
async def test_a_dying_runtime_gives_runtime_exit_error(
    handler: str, payload: bytes, message: str
) -> None:
    async with running([fn("f", f"handlers.{handler}"), fn("echo", "handlers.echo")]) as invoker:
        result = await invoker.invoke("f", payload, request_id="r-x")
        other = await invoker.invoke("echo", b"{}")
    assert json.loads(result.payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: r-x Error: {message}",
    }
    assert "Error Type: Runtime.ExitError" in result.log
    assert other.function_error is None


async def test_memory_size_is_a_real_limit() -> None:
    async with running([fn("hog", "handlers.hog", memory_mb=128)]) as invoker:
        result = await invoker.invoke("hog", b'{"mb": 400}', request_id="r-m")
        assert invoker.stats("hog").instances == 0
    assert json.loads(result.payload) == {
        "errorType": "Runtime.OutOfMemory",
        "errorMessage": "RequestId: r-m Error: Runtime exited with error: signal: killed",
    }
    assert "Max Memory Used: 128 MB" in result.log


async def test_a_leaking_function_is_replaced_once_it_passes_its_limit() -> None:
    async with running([fn("leak", "handlers.leak", memory_mb=160)]) as invoker:
        results = [await invoker.invoke("leak", b'{"mb": 30}') for _ in range(6)]
    kinds = [json.loads(r.payload) if r.function_error is None else "oom" for r in results]
    assert kinds[:3] == [1, 2, 3]
    assert "oom" in kinds
    after = kinds.index("oom") + 1
    assert after == len(kinds) or kinds[after] == 1  # a fresh instance starts over


async def test_flooding_stdout_keeps_a_bounded_log_and_finishes() -> None:
    async with running([fn("flood", "handlers.flood", timeout_s=30)]) as invoker:
        result = await invoker.invoke("flood", b'{"mb": 100}')
    assert json.loads(result.payload) == "flooded"
    assert len(result.log) < 2 * 1024 * 1024
    assert "bytes of output were not kept" in result.log


async def test_children_a_function_leaves_die_with_its_instance() -> None:
    async with running([fn("spawn", "handlers.spawn_child")]) as invoker:
        result = await invoker.invoke("spawn", b"{}")
        assert result.function_error is None
        (instance,) = instance_pids(invoker, "spawn")
        child = started_below(instance, "sleep 300")
    for _ in range(100):
        if not alive(child):
            break
        await asyncio.sleep(0.02)
    assert not alive(child)


async def test_unserialisable_result_is_a_marshal_error() -> None:
    async with running([fn("bad", "handlers.not_json")]) as invoker:
        result = await invoker.invoke("bad", b"{}", request_id="r-j")
    assert json.loads(result.payload) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": "r-j",
        "stackTrace": [],
    }


async def test_decimals_serialise_as_numbers_and_async_handlers_are_awaited() -> None:
    functions = [fn("dec", "handlers.decimals"), fn("async", "handlers.async_echo")]
    async with running(functions) as invoker:
        dec = await invoker.invoke("dec", b"{}")
        coro = await invoker.invoke("async", b'{"a": 1}')
    assert json.loads(dec.payload) == {"int": 3, "float": 1.5}
    assert json.loads(coro.payload) == {"async": True, "event": {"a": 1}}


async def test_oversized_response_is_function_response_size_too_large() -> None:
    async with running([fn("big", "handlers.big_response")]) as invoker:
        result = await invoker.invoke("big", b"{}")
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorType"] == "Function.ResponseSizeTooLarge"


async def test_logging_module_writes_lambdas_format_at_warning_level() -> None:
    async with running([fn("log", "handlers.log_warning")]) as invoker:
        result = await invoker.invoke("log", b"{}", request_id="r-l")
    line = next(line for line in result.log.splitlines() if line.startswith("[WARNING]"))
    level, stamp, request_id, message = line.split("\t")
    assert (level, request_id, message) == ("[WARNING]", "r-l", "careful now")
    assert stamp.endswith("Z") and "T" in stamp
    assert "not shown" not in result.log


@pytest.mark.parametrize(
    ("handler", "error_type", "message"),
    [
        (
            "broken_import.handler",
            "Runtime.ImportModuleError",
            "Unable to import module 'broken_import': No module named 'module_that_does_not_exist'",
        ),
        (
            "handlers.missing",
            "Runtime.HandlerNotFound",
            "Handler 'missing' missing on module 'handlers'",
        ),
        (
            "nohandlerdot",
            "Runtime.MalformedHandlerName",
            "Bad handler 'nohandlerdot': not enough values to unpack (expected 2, got 1)",
        ),
        ("broken_init.handler", "RuntimeError", "init failed on purpose"),
    ],
    ids=["missing_module", "missing_function", "malformed_name", "module_code_raises"],
)
async def test_init_failures_use_lambdas_error_types(
    handler: str, error_type: str, message: str
) -> None:
    async with running([fn("f", handler)]) as invoker:
        result = await invoker.invoke("f", b"{}")
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert (error["errorType"], error["errorMessage"]) == (error_type, message)
    assert "Init Duration" in result.log


async def test_syntax_error_is_user_code_syntax_error() -> None:
    async with running([fn("f", "broken_syntax.handler")]) as invoker:
        result = await invoker.invoke("f", b"{}")
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert error["errorMessage"].startswith("Syntax error in module 'broken_syntax': ")


async def test_handler_in_a_package_path_is_found() -> None:
    nested = fn("n", "pkg/mod.handler", code_dir=FUNCTIONS / "nested")
    async with running([nested]) as invoker:
        result = await invoker.invoke("n", b"{}")
    assert json.loads(result.payload) == "nested ok"


async def test_payload_that_is_not_json_is_refused_before_running() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        with pytest.raises(InvalidRequestContent, match="Could not parse request body into json"):
            await invoker.invoke("echo", b"{nope")
        assert invoker.logs.entries("echo") == []


async def test_unknown_function_and_qualifier_are_not_found() -> None:
    async with running([fn("echo", "handlers.echo")]) as invoker:
        with pytest.raises(ResourceNotFound, match="function:nope"):
            await invoker.invoke("nope", b"{}")
        with pytest.raises(ResourceNotFound, match="function:echo:7"):
            await invoker.invoke("echo", b"{}", qualifier="7")
        ok = await invoker.invoke("echo", b"{}", qualifier="$LATEST")
    assert ok.function_error is None
