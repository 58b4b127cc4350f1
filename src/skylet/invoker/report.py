"""The log lines Lambda writes around every invocation, and billed duration. Pure.

``InvocationLog`` holds one invocation's log unrendered: most logs are never read (an
asynchronous event's, a request's without ``LogType: Tail``), and formatting START, END and
REPORT cost about 5 µs of the ~75 µs an invocation takes in the platform's process.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, NamedTuple

from skylet.config import DEFAULT_LOGGING, LoggingConfig


class Report(NamedTuple):
    """One invocation's REPORT figures. A named tuple: immutable like a frozen dataclass, and
    built in a quarter of the time, once per invocation."""

    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None
    status: str | None = None  # "timeout", "error"; None when the runtime finished normally
    error_type: str | None = None
    #: Restored from a snapshot (SnapStart): the restore, and its runtime hooks' time.
    restore_ms: float | None = None
    restore_hooks_ms: float = 0.0

    @property
    def billed_ms(self) -> int:
        """1 ms granularity, rounded up. Since August 2025 Lambda bills the init phase of
        on-demand cold starts too, so a 120.3 ms init plus a 3.2 ms run bills 124 ms. A
        restore is billed apart (``billed_restore_ms``)."""
        return math.ceil(self.duration_ms + (self.init_ms or 0.0))

    @property
    def billed_restore_ms(self) -> int:
        """SnapStart bills the restore's runtime hooks, rounded up to the millisecond."""
        return math.ceil(self.restore_hooks_ms)


def start_line(request_id: str, version: str) -> str:
    return f"START RequestId: {request_id} Version: {version}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(report: Report) -> str:
    fields = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_ms} ms",
        f"Memory Size: {report.memory_mb} MB",
        f"Max Memory Used: {report.max_memory_used_mb} MB",
    ]
    if report.init_ms is not None:
        fields.append(f"Init Duration: {report.init_ms:.2f} ms")
    elif report.restore_ms is not None:
        fields.append(f"Restore Duration: {report.restore_ms:.2f} ms")
        fields.append(f"Billed Restore Duration: {report.billed_restore_ms} ms")
    if report.status is not None:
        fields.append(f"Status: {report.status}")
        if report.error_type:
            fields.append(f"Error Type: {report.error_type}")
    return "\t".join(fields) + "\t\n"


def timestamp(epoch_s: float) -> str:
    """ISO 8601 with milliseconds and Z, as Lambda stamps its own log lines."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s))
    return f"{whole}.{int(epoch_s * 1000) % 1000:03d}Z"


def timeout_line(request_id: str, timeout_s: float, epoch_s: float) -> str:
    return f"{timestamp(epoch_s)} {request_id} Task timed out after {timeout_s:.2f} seconds\n"


#: System log levels at which Lambda still sends its INFO records (platform.start, .report).
_PLATFORM_INFO = frozenset({"TRACE", "DEBUG", "INFO"})
_RUNTIME_VERSION = f"python:{sys.version_info.major}.{sys.version_info.minor}"
#: Application log levels by rank, with the names Python's ``logging`` writes.
_LEVEL_RANKS = {"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARN": 3, "WARNING": 3, "ERROR": 4}
_LEVEL_RANKS |= {"FATAL": 5, "CRITICAL": 5}


def below_level(line: str, rank: int) -> bool:
    """Whether ``line`` is a JSON record whose ``level`` ranks below ``rank``: Lambda drops
    such application logs in the JSON format, whatever logger wrote them. A line that is not
    JSON, or has no level Lambda knows, is kept."""
    if not line.startswith("{") or '"level"' not in line:
        return False
    try:
        record = json.loads(line)
    except ValueError:
        return False
    level = record.get("level") if isinstance(record, dict) else None
    known = _LEVEL_RANKS.get(level.upper()) if isinstance(level, str) else None
    return known is not None and known < rank


def platform_record(kind: str, epoch_s: float, record: dict[str, Any]) -> str:
    """One of Lambda's platform records in the JSON log format, as a line."""
    line = {"time": timestamp(epoch_s), "type": kind, "record": record}
    return json.dumps(line, separators=(",", ":")) + "\n"  # compact, as Lambda writes them


def report_record(report: Report) -> dict[str, Any]:
    """``platform.report``'s record: the request, its ``metrics`` and its status."""
    metrics: dict[str, Any] = {
        "durationMs": round(report.duration_ms, 3),
        "billedDurationMs": report.billed_ms,
        "memorySizeMB": report.memory_mb,
        "maxMemoryUsedMB": report.max_memory_used_mb,
    }
    if report.init_ms is not None:
        metrics["initDurationMs"] = round(report.init_ms, 3)
    elif report.restore_ms is not None:
        metrics["restoreDurationMs"] = round(report.restore_ms, 3)
        metrics["billedRestoreDurationMs"] = report.billed_restore_ms
    record: dict[str, Any] = {
        "requestId": report.request_id,
        "metrics": metrics,
        "status": report.status or "success",
    }
    if report.error_type:
        record["errorType"] = report.error_type
    return record


class InvocationLog:
    """One invocation's log as Lambda prints it: START, the function's output, the platform's
    lines (``extra``: a timeout, a runtime exit), END, REPORT. ``text`` renders it on first
    read and keeps it; ``size`` estimates its length without rendering.

    ``output`` is the function's raw output (UTF-8, decoded leniently); ``dropped`` counts the
    bytes of it that were not kept. With ``function`` and ``timestamp`` it is itself an entry
    of a function's log (skylet.observe.logs.Entry): one object per invocation is kept, not two.
    """

    __slots__ = (
        "_text",
        "dropped",
        "extra",
        "function",
        "logging",
        "output",
        "report",
        "size",
        "stream",
        "timestamp",
        "version",
    )

    #: START, END and REPORT without the request ids (three of them): about 190 characters.
    _FIXED_SIZE = 190

    def __init__(
        self,
        report: Report,
        version: str,
        output: bytes,
        dropped: int = 0,
        extra: str = "",
        *,
        function: str = "",
        timestamp: float = 0.0,
        logging: LoggingConfig = DEFAULT_LOGGING,
        stream: str = "",
    ) -> None:
        self.report = report
        self.logging = logging
        #: The log stream of the instance that ran it (``YYYY/MM/DD/[$LATEST]hex``).
        self.stream = stream
        self.version = version
        self.output = output
        self.dropped = dropped
        self.extra = extra
        self.function = function
        self.timestamp = timestamp  # epoch seconds
        self._text: str | None = None
        #: Its length, estimated without rendering it.
        self.size = self._FIXED_SIZE + 3 * len(report.request_id) + len(output) + len(extra)

    @property
    def request_id(self) -> str:
        return self.report.request_id

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self._render()
        return self._text

    def _render(self) -> str:
        request_id = self.report.request_id
        output = self.output.decode("utf-8", "replace")
        if output and not output.endswith("\n"):
            output += "\n"
        if self.dropped:
            output += f"[skylet] {self.dropped} bytes of output were not kept\n"
        if self.logging.json:
            return self._render_json(output)
        return "".join(
            (
                start_line(request_id, self.version),
                output,
                self.extra,
                end_line(request_id),
                report_line(self.report),
            )
        )

    def _render_json(self, output: str) -> str:
        """The JSON log format: the platform's records (``platform.initStart`` on a cold
        start, ``platform.start``, ``platform.report``), unless the system log level is above
        INFO, around what the function wrote (its ``logging`` records already JSON)."""
        rank = _LEVEL_RANKS[self.logging.application_level]
        if rank > _LEVEL_RANKS["TRACE"] and '"level"' in output:
            kept = (
                line for line in output.splitlines(keepends=True) if not below_level(line, rank)
            )
            output = "".join(kept)
        if self.logging.system_level not in _PLATFORM_INFO:
            return output + self.extra
        report = self.report
        ended = self.timestamp
        started = ended - report.duration_ms / 1000
        lines = []
        if report.init_ms is not None:
            init = {
                "initializationType": "on-demand",
                "phase": "init",
                "runtimeVersion": _RUNTIME_VERSION,
                "functionName": self.function,
                "functionVersion": self.version,
            }
            lines.append(
                platform_record("platform.initStart", started - report.init_ms / 1000, init)
            )
        start = {"requestId": report.request_id, "version": self.version}
        lines.append(platform_record("platform.start", started, start))
        lines.append(output)
        lines.append(self.extra)
        lines.append(platform_record("platform.report", ended, report_record(report)))
        return "".join(lines)


def init_report_line(init_ms: float, status: str, error_type: str | None = None) -> str:
    """Lambda's line for an init that failed: ``INIT_REPORT Init Duration: … ms`` with the
    phase, the status (``error``, ``timeout``) and, for an error, its type."""
    fields = [f"INIT_REPORT Init Duration: {init_ms:.2f} ms", "Phase: init", f"Status: {status}"]
    if error_type is not None:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t\n"


class InitLog:
    """A failed init's entry in its function's log, outside any invocation (a provisioned
    instance's, or an init that timed out and runs again): what it printed, then INIT_REPORT.
    Rare, so rendered at once."""

    __slots__ = ("function", "size", "text", "timestamp")

    def __init__(
        self,
        function: str,
        output: bytes,
        init_ms: float,
        status: str,
        error_type: str | None,
        *,
        timestamp: float,
        logging: LoggingConfig = DEFAULT_LOGGING,
    ) -> None:
        printed = output.decode("utf-8", "replace")
        if printed and not printed.endswith("\n"):
            printed += "\n"
        self.function = function
        self.timestamp = timestamp  # epoch seconds
        if not logging.json:
            self.text = printed + init_report_line(init_ms, status, error_type)
        elif logging.system_level not in _PLATFORM_INFO:
            self.text = printed
        else:  # the JSON format's platform.initReport
            record: dict[str, Any] = {
                "initializationType": "on-demand",
                "phase": "init",
                "status": status,
                "metrics": {"durationMs": round(init_ms, 3)},
            }
            if error_type is not None:
                record["errorType"] = error_type
            self.text = printed + platform_record("platform.initReport", timestamp, record)
        self.size = len(self.text)

    @property
    def request_id(self) -> str:
        return ""
