"""The log lines Lambda writes around every invocation, and billed duration. Pure."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Report:
    request_id: str
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None = None
    status: str | None = None  # "timeout", "error"; None when the runtime finished normally
    error_type: str | None = None

    @property
    def billed_ms(self) -> int:
        """1 ms granularity, rounded up. Since August 2025 Lambda bills the init phase of
        on-demand cold starts too, so a 120.3 ms init plus a 3.2 ms run bills 124 ms."""
        return math.ceil(self.duration_ms + (self.init_ms or 0.0))


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
