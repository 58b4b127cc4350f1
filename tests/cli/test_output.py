"""The console of ``skylet up``: function output and errors, request lines, piped or not."""

from __future__ import annotations

import io

from rich.console import Console

from skylet.cli.output import FunctionOutput, Output, RequestLines
from skylet.invoker.hooks import InvocationRecord, RequestLine
from skylet.invoker.report import Report


def record(
    output: bytes, error_type: str | None = None, message: str | None = None
) -> InvocationRecord:
    return InvocationRecord(
        function="orders",
        request_id="r-1",
        started=0.0,
        cold=False,
        error_type=error_type,
        report=Report("r-1", 1.0, 128, 20),
        output=output,
        error_message=message,
    )


def piped() -> tuple[Output, io.StringIO]:
    stream = io.StringIO()
    return Output(stream=stream), stream


def test_piped_function_output_is_plain_and_prefixed_by_the_function() -> None:
    out, stream = piped()
    FunctionOutput(out).completed(record(b"first\nsecond\n"))
    assert stream.getvalue() == "orders | first\norders | second\n"


def test_a_failed_invocation_ends_with_its_error_type_and_message() -> None:
    out, stream = piped()
    FunctionOutput(out).completed(record(b"working\n", "ValueError", "something broke"))
    assert stream.getvalue().splitlines() == [
        "orders | working",
        "orders | ERROR ValueError: something broke",
    ]


def test_an_invocation_that_printed_nothing_and_succeeded_prints_nothing() -> None:
    out, stream = piped()
    FunctionOutput(out).completed(record(b""))
    assert stream.getvalue() == ""


def test_a_request_no_route_took_says_so() -> None:
    out, stream = piped()
    RequestLines(out).http_request(RequestLine("GET", "/nope", 404, 0.4, "", None))
    assert stream.getvalue() == "GET     /nope 404 0.4 ms - (no route)\n"


def test_on_a_terminal_lines_are_coloured_and_markup_in_output_is_shown_as_is() -> None:
    stream = io.StringIO()
    out = Output(stream=stream)
    out.console = Console(file=stream, force_terminal=True, color_system="standard")
    out.rich = True
    FunctionOutput(out).completed(record(b"[bold]not markup[/]\n", "E", "boom"))
    text = stream.getvalue()
    assert "\x1b[" in text  # colour
    assert "[bold]not markup[/]" in text
    assert "ERROR E: boom" in text
