"""An instance's output: fd 1 and 2 on the output pipe, unbuffered, with Lambda's logging
format; whether the function wrote since the last invocation ended; and the runtime's own
descriptor of the pipe, for the marker that ends an invocation's output and for the runtime's
``[ERROR]`` lines. The function does not know that descriptor, so one that closes or redirects
fd 1 still has its result delivered and its errors logged."""

from __future__ import annotations

import fcntl
import io
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any


class Output:
    """``written``: the function wrote through ``sys.stdout``/``sys.stderr`` since the last
    invocation ended (only then is a marker written); ``fd``: the runtime's descriptor of the
    output pipe; ``request_id``: the invocation running, for log records."""

    written = False
    fd = -1
    request_id = ""
    #: The log format and level the root logger was configured with (``configure``).
    log_format = "Text"
    log_level = ""


class _TrackedFile(io.FileIO):
    def write(self, data: Any) -> int:
        Output.written = True
        return super().write(data)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = Output.request_id
        return True


def prepare() -> None:
    """``sys.stdout``/``stderr`` as unbuffered text on fd 1 and 2, and Lambda's logging, made
    once in the template: every instance then only points fd 1 and 2 at its own pipe
    (:func:`attach`), and these objects stay shared by all of them instead of copied into each."""
    # Unbuffered, like Lambda's runtime: output is attributed to the invocation that wrote it
    # even when the process dies right after printing.
    sys.stdout = io.TextIOWrapper(
        _TrackedFile(1, "w", closefd=False), encoding="utf-8", write_through=True
    )
    sys.stderr = io.TextIOWrapper(
        _TrackedFile(2, "w", closefd=False), encoding="utf-8", write_through=True
    )
    _install_lambda_logging()


def attach(out_fd: int) -> None:
    """Make ``out_fd`` (the output pipe) the process's fd 1 and 2 and keep the runtime's own
    descriptor of it; :func:`prepare` made what writes to them. Closes ``out_fd``."""
    if not isinstance(sys.stdout, io.TextIOWrapper) or not isinstance(
        getattr(sys.stdout, "buffer", None), _TrackedFile
    ):
        prepare()
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    # Close-on-exec, above the descriptors a function's code usually touches.
    Output.fd = fcntl.fcntl(out_fd, fcntl.F_DUPFD_CLOEXEC, 64)
    os.close(out_fd)


_TEXT_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"

#: A LogRecord's own attributes: every other one is a key the function passed (``extra=``),
#: which the JSON format writes beside the standard ones, as AWS's runtime does.
_RECORD_FIELDS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys()
    | {"message", "asctime", "aws_request_id", "taskName"}
)


class JsonFormatter(logging.Formatter):
    """A record as the Python runtime's JSON log format writes it: ``timestamp`` (UTC, ms),
    ``level``, ``message``, ``logger``, ``requestId`` (absent during the init), with an
    exception its ``errorType``, ``errorMessage``, ``stackTrace`` and ``location``, then the
    record's extra keys; keys whose value is None are left out. One line per record."""

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10  # a custom level: its decade's
        moment = datetime.fromtimestamp(record.created, tz=UTC)
        fields: dict[str, Any] = {
            "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": logging.getLevelName(level),
            "message": record.getMessage(),
            "logger": record.name,
        }
        info = record.exc_info
        if info and info[0] is not None:
            fields["stackTrace"] = traceback.format_tb(info[2])
            fields["errorType"] = info[0].__name__
            fields["errorMessage"] = str(info[1])
        fields["requestId"] = getattr(record, "aws_request_id", None) or None
        if info and info[0] is not None:
            fields["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in fields:
                fields[key] = value
        kept = {k: v for k, v in fields.items() if v is not None}
        return json.dumps(kept, ensure_ascii=False, default=str) + "\n"


def _install_lambda_logging() -> None:
    """Root logger as in Lambda: level WARNING, ``[LEVEL]\\ttime\\trequest id\\tmessage``."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_text_formatter())
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    Output.log_format, Output.log_level = "Text", ""


def _text_formatter() -> logging.Formatter:
    formatter = logging.Formatter(_TEXT_FORMAT, "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    return formatter


#: Lambda's log levels as ``logging`` names them (TRACE is DEBUG, as AWS's runtime reads it).
_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO}
_LEVELS |= {"WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}


def configure(env: Mapping[str, str]) -> None:
    """The root logger's format and level from the variables Lambda sets
    (``AWS_LAMBDA_LOG_FORMAT``, ``AWS_LAMBDA_LOG_LEVEL``), as AWS's runtime reads them. Cheap
    when nothing changed (an instance, after its template configured the same)."""
    log_format = "JSON" if env.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON" else "Text"
    log_level = env.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if (log_format, log_level) == (Output.log_format, Output.log_level):
        return
    root = logging.getLogger()
    if not root.handlers:
        _install_lambda_logging()
    formatter = JsonFormatter() if log_format == "JSON" else _text_formatter()
    for handler in root.handlers:
        handler.setFormatter(formatter)
    level = _LEVELS.get(log_level)
    root.setLevel(logging.WARNING if level is None else level)
    Output.log_format, Output.log_level = log_format, log_level


def log_error(error: Mapping[str, Any]) -> None:
    """An uncaught error as the runtime logs it: ``[ERROR] type: message`` and the
    traceback, or in the JSON format one record (``timestamp``, ``log_level``, the error)."""
    if Output.log_format == "JSON":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        log(json.dumps({"timestamp": stamp, "log_level": "ERROR", **error}, ensure_ascii=False))
        return
    trace = "".join(error.get("stackTrace") or ()).rstrip("\n")
    log(
        f"[ERROR] {error['errorType']}: {error['errorMessage']}\n"
        f"Traceback (most recent call last):\n{trace}"
    )


def log(text: str) -> None:
    """One line of the runtime's own (``[ERROR] …``) into the invocation's output."""
    Output.written = True
    write(text.encode() + b"\n")


def log_raw(data: bytes) -> None:
    """Bytes a runtime's process printed, into the invocation's output."""
    Output.written = True
    write(data)


def write(data: bytes) -> None:
    """Bytes on the runtime's descriptor of the output pipe."""
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(Output.fd, view) :]
    except OSError:
        pass  # the platform has gone: nothing is read any more
