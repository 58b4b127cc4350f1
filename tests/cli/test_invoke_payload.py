"""Where ``skylet invoke`` takes its event from, and how it prints an answer as JSON."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import click
import pytest

from skylet.cli.invoke import Answer, _document, read_payload


class Stdin(io.TextIOWrapper):
    """Standard input holding ``data``, a terminal or not."""

    def __init__(self, data: bytes, *, tty: bool = False) -> None:
        super().__init__(io.BytesIO(data))
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_a_piped_standard_input_is_the_event_when_nothing_else_is_given() -> None:
    assert read_payload(None, None, Stdin(b'{"a": 1}')) == b'{"a": 1}'


def test_a_terminal_is_never_read_the_event_is_then_empty() -> None:
    assert read_payload(None, None, Stdin(b'{"a": 1}', tty=True)) == b"{}"


@pytest.mark.parametrize(
    "stdin", [Stdin(b""), Stdin(b"  \n"), None], ids=["empty", "blank", "closed"]
)
def test_an_empty_or_closed_standard_input_is_an_empty_event(stdin: Stdin | None) -> None:
    assert read_payload(None, None, stdin) == b"{}"


def test_path_dash_reads_standard_input() -> None:
    assert read_payload(None, "-", Stdin(b"[1, 2]")) == b"[1, 2]"


@pytest.mark.parametrize("prefix", ["", "file://", "fileb://"], ids=["bare", "file", "fileb"])
def test_a_path_is_read_with_or_without_the_aws_clis_prefixes(tmp_path: Path, prefix: str) -> None:
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    assert read_payload(None, prefix + str(event), Stdin(b"ignored")) == b'{"from": "file"}'


def test_data_wins_over_standard_input() -> None:
    assert read_payload('{"d": 1}', None, Stdin(b'{"s": 1}')) == b'{"d": 1}'


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ("{", None, "not JSON"),
        ("{}", "x.json", "either --data or --path"),
        (None, "/nonexistent/event.json", "No such file"),
    ],
    ids=["not_json", "data_and_path", "a_missing_file"],
)
def test_a_bad_payload_is_a_usage_error(data: str | None, path: str | None, message: str) -> None:
    with pytest.raises(click.UsageError, match=message):
        read_payload(data, path, None)


ANSWER = Answer(200, b'{"ok": true}', None, "$LATEST", "START …\nREPORT …\n")


def test_the_json_answer_is_the_aws_clis_with_the_payload() -> None:
    assert _document(ANSWER, False, with_payload=True) == {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": {"ok": True},
    }


def test_with_tail_the_log_is_base64_and_an_outfile_takes_the_payload() -> None:
    failed = Answer(200, b"not json", "Unhandled", "$LATEST", "log line\n")
    document = _document(failed, True, with_payload=False)
    assert document == {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "LogResult": base64.b64encode(b"log line\n").decode(),
        "ExecutedVersion": "$LATEST",
    }
    assert _document(failed, False, with_payload=True)["Payload"] == "not json"
