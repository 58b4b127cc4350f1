"""The command line's exit statuses, one meaning each, and the errors that carry them.

A command that cannot go on raises :class:`Exit` (or lets a ``SkyletError`` through to
:func:`status_of`); ``skylet``'s entry point prints the message and exits with its status.
Click's own usage errors keep click's status, 2.
"""

from __future__ import annotations

import enum

from skylet.errors import ConfigError, ListenError, ResourceNotFound, SkyletError


class Status(enum.IntEnum):
    OK = 0
    #: The function failed (X-Amz-Function-Error), or the server refused the operation.
    FAILED = 1
    #: Bad options or arguments (click's status), a payload that is not JSON.
    USAGE = 2
    #: The manifest or a setting is invalid: the message names the file, line and key.
    CONFIG = 3
    #: No such function, bucket or object.
    NOT_FOUND = 4
    #: The server cannot be reached (is ``skylet up`` running?).
    UNREACHABLE = 5
    #: ``skylet up`` cannot listen: the port is in use, or the address is not this machine's.
    CANNOT_LISTEN = 6
    #: Stopped by Ctrl+C (SIGINT): 128 + 2, the shell's convention.
    INTERRUPTED = 130


#: What ``skylet --help`` says about them.
EPILOG = (
    "Exit status: 0 success; 1 the function failed or the server refused; 2 usage; "
    "3 manifest or configuration error; 4 not found (function, bucket, object); "
    "5 server unreachable; 6 cannot listen (port in use); 130 interrupted (Ctrl+C)."
)


class Exit(Exception):
    """Stop the command: print ``message`` (when there is one) as an error, exit ``status``."""

    def __init__(self, message: str, status: Status) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def status_of(error: SkyletError) -> Status:
    """The exit status of an error skylet raised: the most specific class decides."""
    if isinstance(error, ListenError):
        return Status.CANNOT_LISTEN
    if isinstance(error, ConfigError):
        return Status.CONFIG
    if isinstance(error, ResourceNotFound):
        return Status.NOT_FOUND
    return Status.FAILED


def for_http(status_code: int) -> Status:
    """The exit status for an error answer of skylet's APIs (4xx, 5xx)."""
    if status_code == 404:
        return Status.NOT_FOUND
    return Status.FAILED
