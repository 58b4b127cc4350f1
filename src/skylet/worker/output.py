"""An instance's output: fd 1 and 2 on the output pipe, unbuffered, with Lambda's logging
format; whether the function wrote since the last invocation ended; and the runtime's own
descriptor of the pipe, for the marker that ends an invocation's output and for the runtime's
``[ERROR]`` lines. The function does not know that descriptor, so one that closes or redirects
fd 1 still has its result delivered and its errors logged."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import sys
import time
from typing import Any


class Output:
    """``written``: the function wrote through ``sys.stdout``/``sys.stderr`` since the last
    invocation ended (only then is a marker written); ``fd``: the runtime's descriptor of the
    output pipe; ``request_id``: the invocation running, for log records."""

    written = False
    fd = -1
    request_id = ""


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


def _install_lambda_logging() -> None:
    """Root logger as in Lambda: level WARNING, ``[LEVEL]\\ttime\\trequest id\\tmessage``."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
        "%Y-%m-%dT%H:%M:%S",
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


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
