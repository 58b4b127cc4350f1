"""The seed's structured logging (§8.1) in Python: every record carries the invocation's
request id, the function's name and version, beside the caller's own keys.

With ``logs: {logFormat: JSON}`` the runtime writes each ``logging`` record as one JSON
object, the ``extra`` keys included, so no JSON handler of our own is needed.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger("orders")


def log_with_context(context: Any, level: int, message: str, **fields: Any) -> None:
    """Log ``message`` with ``fields`` and the invocation's identity."""
    fields |= {
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
    }
    logger.log(level, message, extra=fields)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    log_with_context(context, logging.INFO, "Processing request", user_id="user-123", item_count=5)
    return {"ok": True}
