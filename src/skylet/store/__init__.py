"""The durable store: queues and logs under every asynchronous path (see ``base``).

``open_store(url, data_dir=...)`` builds one from ``--store``; the composition root calls
``start()`` and ``aclose()``.
"""

from __future__ import annotations

from skylet.store.base import Clock, LogStore, QueueStore, Store
from skylet.store.factory import open_store
from skylet.store.types import (
    AT_TIMESTAMP,
    DEDUP_WINDOW_S,
    LATEST,
    TRIM_HORIZON,
    AtTimestamp,
    LogConfig,
    LogRecord,
    Message,
    Position,
    QueueConfig,
    QueueStats,
    SendEntry,
    StartPosition,
)

__all__ = [
    "AT_TIMESTAMP",
    "DEDUP_WINDOW_S",
    "LATEST",
    "TRIM_HORIZON",
    "AtTimestamp",
    "Clock",
    "LogConfig",
    "LogRecord",
    "LogStore",
    "Message",
    "Position",
    "QueueConfig",
    "QueueStats",
    "QueueStore",
    "SendEntry",
    "StartPosition",
    "Store",
    "open_store",
]
