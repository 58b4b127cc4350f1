"""Errors resolved against the service's model, the one place a code gets its status, fault
and query code. Pure.

A service raises ``ServiceError("QueueDoesNotExist", "…")``; the model's error shape of that
name (or of that code) gives the HTTP status, whether the sender is at fault, and, for a
service that came from the query protocol, the code its query clients read (``awsQueryError``).
A request refused before a service sees it (:class:`Refused`) gets its code from the codec of
its protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import ServiceModel, StructureShape

from skylet.aws.protocols.types import Fault, Refusal, Refused
from skylet.errors import ServiceError

#: What an unexpected failure in a service answers, in every protocol.
INTERNAL = ("InternalFailure", 500)


def error_shape(model: ServiceModel, code: str) -> StructureShape | None:
    """The model's error shape for a code: by its name, or by its modeled error code."""
    try:
        shape = model.shape_for(code)
        if isinstance(shape, StructureShape) and shape.metadata.get("exception"):
            return shape
    except Exception:  # botocore's NoShapeFoundError, and anything a name could cause
        pass
    found = model.shape_for_error_code(code)
    return found if isinstance(found, StructureShape) else None


def resolve(model: ServiceModel, error: ServiceError) -> Fault:
    shape = error_shape(model, error.code)
    modeled: Mapping[str, Any] = shape.metadata.get("error", {}) if shape is not None else {}
    status = error.given_status or int(modeled.get("httpStatusCode", 400))
    sender = error.sender_fault
    if sender is None:
        sender = bool(modeled.get("senderFault", status < 500))
    query_code = error.query_code or modeled.get("code")
    if query_code == error.code:
        query_code = None
    return Fault(error.code, error.message, status, sender, query_code, dict(error.fields))


def refused(
    codes: Mapping[Refusal, tuple[str, int]], refusal: Refused, *, missing_message: str
) -> Fault:
    """A refused request in the codec's codes; a missing member in the protocol's words."""
    code, status = codes[refusal.kind]
    message = refusal.message
    if refusal.kind == "missing":
        message = missing_message.format(member=refusal.message)
    return Fault(code, message, status, status < 500)


def internal(request_id: str) -> Fault:
    code, status = INTERNAL
    return Fault(code, f"An internal error occurred (request {request_id})", status, False)


def extra_members(
    model: ServiceModel, fault: Fault
) -> tuple[StructureShape | None, dict[str, object]]:
    """The error shape and the fault's fields it has (its message aside); without a shape,
    every field, to be written as text."""
    shape = error_shape(model, fault.code)
    fields = {k: v for k, v in fault.fields.items() if k.lower() != "message" and v is not None}
    if shape is None:
        return None, {k: str(v) for k, v in fields.items()}
    return shape, {k: v for k, v in fields.items() if k in shape.members}
