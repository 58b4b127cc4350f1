"""Batch requests: the checks of a whole batch (SQS refuses the request) and the result of
one whose entries succeed or fail one by one. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from skylet.aws.protocols.types import Params
from skylet.aws.sqs.errors import empty_batch, ids_not_distinct, invalid_batch_id, too_many_entries
from skylet.errors import ServiceError

MAX_ENTRIES = 10
_ENTRY_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


def check_entries(operation: str, entries: Sequence[Params]) -> None:
    """EmptyBatchRequest, TooManyEntriesInBatchRequest, InvalidBatchEntryId,
    BatchEntryIdsNotDistinct: each refuses the whole request."""
    if not entries:
        raise empty_batch(operation)
    if len(entries) > MAX_ENTRIES:
        raise too_many_entries(len(entries))
    seen: set[str] = set()
    for entry in entries:
        entry_id = entry.get("Id", "")
        if not isinstance(entry_id, str) or not _ENTRY_ID.fullmatch(entry_id):
            raise invalid_batch_id()
        if entry_id in seen:
            raise ids_not_distinct(entry_id)
        seen.add(entry_id)


def failure(entry_id: str, error: ServiceError) -> dict[str, Any]:
    """A ``BatchResultErrorEntry``: the code an SDK of either era reads (the legacy one)."""
    return {
        "Id": entry_id,
        "SenderFault": error.sender_fault is not False,
        "Code": error.query_code or error.code,
        "Message": error.message,
    }


def result(successful: list[dict[str, Any]], failed: list[dict[str, Any]]) -> Params:
    return {"Successful": successful, "Failed": failed}
