"""SQS's errors as SQS words them: each function returns the ``ServiceError`` to raise.

The json protocol's code is the model's error shape name (``QueueDoesNotExist``) or, for the
errors SQS has no shape for, the json name AWS sends (``InvalidParameterValueException``); the
code its query-era SDKs read comes from the model's overlay (``wire_names.ERROR_CODES``) or is
given here (``query_code``). Messages are AWS's, recorded from real SQS responses.
"""

from __future__ import annotations

from skylet.errors import ServiceError


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError(
        "InvalidParameterValueException", message, query_code="InvalidParameterValue"
    )


def invalid_value(parameter: str, value: object, reason: str) -> ServiceError:
    """``Value 11 for parameter MaxNumberOfMessages is invalid. Reason: …``"""
    return invalid_parameter(
        f"Value {value} for parameter {parameter} is invalid. Reason: {reason}"
    )


def missing(parameter: str) -> ServiceError:
    return ServiceError(
        "MissingRequiredParameterException",
        f"The request must contain the parameter {parameter}.",
        query_code="MissingParameter",
    )


def non_existent_queue() -> ServiceError:
    return ServiceError("QueueDoesNotExist", "The specified queue does not exist.")


def queue_exists(attribute: str) -> ServiceError:
    return ServiceError(
        "QueueNameExists",
        "A queue already exists with the same name and a different value for attribute "
        f"{attribute}",
    )


def invalid_attribute_name(message: str) -> ServiceError:
    return ServiceError("InvalidAttributeName", message)


def unknown_attribute(name: str) -> ServiceError:
    return invalid_attribute_name(f"Unknown Attribute {name}.")


def invalid_attribute_value(name: str, reason: str | None = None) -> ServiceError:
    message = f"Invalid value for the parameter {name}."
    if reason:
        message = f"Invalid value for the parameter {name}. Reason: {reason}"
    return ServiceError("InvalidAttributeValue", message)


def receipt_handle_invalid(handle: str) -> ServiceError:
    return ServiceError(
        "ReceiptHandleIsInvalid",
        f'The input receipt handle "{handle}" is not a valid receipt handle.',
    )


def message_contents(reason: str) -> ServiceError:
    return ServiceError("InvalidMessageContents", reason)


INVALID_CHARACTERS = (
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
    "#xE000 to #xFFFD | #x10000 to #x10FFFF"
)


def purge_in_progress(name: str) -> ServiceError:
    return ServiceError(
        "PurgeQueueInProgress",
        f"Only one PurgeQueue operation on {name} is allowed every 60 seconds.",
    )


def empty_batch(operation: str) -> ServiceError:
    return ServiceError(
        "EmptyBatchRequest", f"There should be at least one {operation}RequestEntry in the request."
    )


def too_many_entries(count: int) -> ServiceError:
    return ServiceError(
        "TooManyEntriesInBatchRequest",
        f"Maximum number of entries per request are 10. You have sent {count}.",
    )


def ids_not_distinct(entry_id: str) -> ServiceError:
    return ServiceError("BatchEntryIdsNotDistinct", f"Id {entry_id} repeated.")


def invalid_batch_id() -> ServiceError:
    return ServiceError(
        "InvalidBatchEntryId",
        "A batch entry id can only contain alphanumeric characters, hyphens and underscores. "
        "It can be at most 80 letters long.",
    )


def batch_too_long(limit: int, size: int) -> ServiceError:
    return ServiceError(
        "BatchRequestTooLong",
        f"Batch requests cannot be longer than {limit} bytes. You have sent {size} bytes.",
    )


def unsupported(message: str) -> ServiceError:
    return ServiceError("UnsupportedOperation", message)


def resource_not_found(message: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", message)
