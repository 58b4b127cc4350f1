"""What people see: tables and colour on a terminal, plain aligned text otherwise."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import IO, NamedTuple

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from skylet.invoker.hooks import InvocationHook, InvocationRecord, RequestLine

REQUEST_FLUSH_S = 0.02


class FunctionLines(NamedTuple):
    """What one invocation printed, and its error, for the console."""

    function: str
    output: bytes
    error_type: str | None
    error_message: str | None


class Output:
    def __init__(self, *, stream: IO[str] | None = None) -> None:
        self.console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=True)
        self.rich = self.console.is_terminal
        self._pending: list[RequestLine | FunctionLines] = []

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.rich:
            table = Table(title=title, title_justify="left", header_style="bold cyan")
            for i, column in enumerate(columns):
                cells = [row[i] for row in rows]
                if cells and all(c.startswith(("http://", "https://", "arn:")) for c in cells):
                    # A URL or an ARN is there to be copied: never cut short; the other columns
                    # give way.
                    longest = max(len(c) for c in cells)
                    table.add_column(column, no_wrap=True, min_width=longest, overflow="fold")
                else:
                    # Folded, not cut with an ellipsis: a long function name stays whole.
                    table.add_column(column, overflow="fold")
            for row in rows:
                table.add_row(*row)
            self.console.print(table)
            return
        widths = [max([len(c), *(len(r[i]) for r in rows)]) for i, c in enumerate(columns)]
        print(title, file=self.console.file)
        for row in (columns, *rows):
            line = "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
            print(line, file=self.console.file)
        self.console.file.flush()

    def line(self, text: str, style: str | None = None) -> None:
        if self.rich and style:
            self.console.print(text, style=style, markup=False)
        else:
            print(text, file=self.console.file, flush=True)

    def request(self, line: RequestLine | FunctionLines) -> None:
        """One line per HTTP request (method, path, status, duration, cold or warm), or the
        lines an invocation printed and its error, prefixed by the function's name.

        Lines are formatted and written in batches, at most every REQUEST_FLUSH_S, so that
        printing them costs the request path one append, not a format and a write.
        """
        self._pending.append(line)
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_later(REQUEST_FLUSH_S, self.flush_requests)
            except RuntimeError:  # no loop: write at once
                self.flush_requests()

    def flush_requests(self) -> None:
        lines, self._pending = self._pending, []
        if not lines:
            return
        if self.rich:
            text = "\n".join(_rich(line) for line in lines)
            self.console.print(text, soft_wrap=True, highlight=False)
        else:
            print("\n".join(map(_plain, lines)), file=self.console.file, flush=True)

    def error(self, text: str) -> None:
        err = Console(file=sys.stderr, highlight=False, soft_wrap=True)
        if err.is_terminal:
            err.print(f"error: {text}", style="bold red", markup=False)
        else:
            print(f"error: {text}", file=sys.stderr, flush=True)


_MARKERS = {True: "cold", False: "warm", None: "-"}


def _plain(line: RequestLine | FunctionLines) -> str:
    if isinstance(line, FunctionLines):
        return "\n".join(f"{line.function} | {text}" for text in _function_lines(line))
    return (
        f"{line.method:<7} {line.path} {line.status} {line.duration_ms:.1f} ms "
        f"{_MARKERS[line.cold]} {line.function or '(no route)'}"
    )


def _rich(line: RequestLine | FunctionLines) -> str:
    if isinstance(line, FunctionLines):
        name = escape(line.function)
        texts = _function_lines(line)
        if line.error_type is not None:  # the error is the last line
            texts[-1] = f"[bold red]{escape(texts[-1])}[/]"
            body = [escape(t) for t in texts[:-1]] + [texts[-1]]
        else:
            body = [escape(t) for t in texts]
        return "\n".join(f"[magenta]{name}[/] [dim]|[/] {text}" for text in body)
    colour = "green" if line.status < 400 else "yellow" if line.status < 500 else "red"
    return (
        f"[bold]{line.method:<7}[/] {escape(line.path)} [{colour}]{line.status}[/] "
        f"{line.duration_ms:.1f} ms [{'cyan' if line.cold else 'dim'}]{_MARKERS[line.cold]}[/] "
        f"[dim]{escape(line.function or '(no route)')}[/]"
    )


def _function_lines(lines: FunctionLines) -> list[str]:
    """The invocation's output lines, then its error (when it failed) as one line."""
    texts = lines.output.decode("utf-8", "replace").splitlines()
    if lines.error_type is not None:
        message = f": {lines.error_message}" if lines.error_message else ""
        texts.append(f"ERROR {lines.error_type}{message}")
    return texts


class RequestLines(InvocationHook):
    """The console's request lines, as a hook the CLI registers with the platform."""

    def __init__(self, out: Output) -> None:
        self._out = out

    def http_request(self, line: RequestLine) -> None:
        self._out.request(line)


class FunctionOutput(InvocationHook):
    """The console's function lines: what each invocation printed and its error, prefixed by
    the function's name, as a hook the CLI registers (``skylet up``, unless
    ``--no-function-logs``)."""

    def __init__(self, out: Output) -> None:
        self._out = out

    def completed(self, record: InvocationRecord) -> None:
        if record.output or record.error_type is not None:
            self._out.request(
                FunctionLines(
                    record.function, record.output, record.error_type, record.error_message
                )
            )
