"""Lambda's log lines and billed duration, as pure functions."""

from __future__ import annotations

import pytest

from skylet.invoker.report import (
    InvocationLog,
    Report,
    end_line,
    report_line,
    start_line,
    timeout_line,
)


@pytest.mark.parametrize(
    ("duration", "init", "billed"),
    [
        (3.56, None, 4),
        (0.01, None, 1),
        (100.0, None, 100),
        (3.2, 120.3, 124),
        (0.0, 0.5, 1),
    ],
    ids=[
        "rounds_up_to_the_millisecond",
        "a_tiny_run_bills_one_millisecond",
        "a_whole_millisecond_is_not_rounded",
        "a_cold_start_bills_its_init_phase_too",
        "init_alone_still_bills",
    ],
)
def test_billed_duration(duration: float, init: float | None, billed: int) -> None:
    assert Report("r", duration, 128, 30, init_ms=init).billed_ms == billed


def test_report_line_of_a_warm_invocation_is_tab_separated_like_lambdas() -> None:
    line = report_line(Report("abc", 3.56, 128, 39))
    assert line == (
        "REPORT RequestId: abc\tDuration: 3.56 ms\tBilled Duration: 4 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 39 MB\t\n"
    )


def test_report_line_of_a_cold_failed_invocation_has_init_and_status() -> None:
    line = report_line(
        Report("abc", 10.0, 256, 40, init_ms=1.234, status="error", error_type="Runtime.ExitError")
    )
    assert line.endswith("Init Duration: 1.23 ms\tStatus: error\tError Type: Runtime.ExitError\t\n")


def test_start_end_and_timeout_lines() -> None:
    assert start_line("abc", "$LATEST") == "START RequestId: abc Version: $LATEST\n"
    assert end_line("abc") == "END RequestId: abc\n"
    assert timeout_line("abc", 3, 1_700_000_000.25) == (
        "2023-11-14T22:13:20.250Z abc Task timed out after 3.00 seconds\n"
    )


@pytest.mark.parametrize(
    ("output", "dropped", "extra", "middle"),
    [
        (b"", 0, "", ""),
        (b"hello", 0, "", "hello\n"),
        (b"line\n", 0, "Runtime.ExitError\n", "line\nRuntime.ExitError\n"),
        (b"\xff", 7, "", "\ufffd\n[skylet] 7 bytes of output were not kept\n"),
    ],
    ids=["no_output", "output_gets_its_newline", "platform_lines_follow_the_output", "dropped"],
)
def test_an_invocation_log_reads_as_lambdas_start_output_end_report(
    output: bytes, dropped: int, extra: str, middle: str
) -> None:
    report = Report("abc", 3.56, 128, 39)
    log = InvocationLog(report, "$LATEST", output, dropped, extra)

    text = log.text

    assert text == start_line("abc", "$LATEST") + middle + end_line("abc") + report_line(report)
    assert log.text is text  # rendered once, on the first read
    assert abs(log.size - len(text)) < 64  # estimated without rendering
