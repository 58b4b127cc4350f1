"""The ``smithy-rpc-v2-cbor`` protocol: ``POST /service/{ServiceName}/operation/{Operation}``
with ``smithy-protocol: rpc-v2-cbor``, the input and output as CBOR maps (blobs as byte
strings, timestamps as tag 1 epoch seconds), errors as ``{"__type", "message"}`` maps.
CloudWatch speaks it first. CBOR is read and written by cbor2 (its decoder bounds nesting)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import cbor2
from botocore.model import OperationModel, ServiceModel, Shape

from skylet.aws.protocols import document, values
from skylet.aws.protocols.json_rpc import (
    MISSING,
    ROUTED_REFUSALS,
    error_document,
    query_error_header,
)
from skylet.aws.protocols.models import Loaded
from skylet.aws.protocols.types import MAX_DEPTH, Fault, Params, Refused, Request, Response

_PATH = re.compile(r"^/service/([^/]+)/operation/([^/?]+)$")


class CborScalars(document.JsonScalars):
    """Blobs as byte strings; timestamps as tag 1 (cbor2 gives a datetime) or bare numbers."""

    def blob_in(self, value: object, where: str) -> bytes:
        if isinstance(value, bytes):
            return value
        raise values.invalid(where, value, "Member must be a byte string")

    def blob_out(self, value: object) -> Any:
        return values.as_bytes(value)

    def timestamp_in(self, shape: Shape, value: object, where: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float | datetime):
            raise values.invalid(where, value, "Member must be a timestamp")
        return values.parse_timestamp(value, values.UNIX, where)

    def timestamp_out(self, shape: Shape, value: object) -> Any:
        return cbor2.CBORTag(1, values.epoch(value))

    def float_out(self, shape: Shape, number: float) -> Any:
        return number


CBOR = CborScalars()


def decode_cbor(body: bytes) -> Any:
    if not body:
        return {}
    try:
        return cbor2.loads(body, max_depth=MAX_DEPTH)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError):
        raise Refused("malformed", "The request body is not valid CBOR") from None


class CborCodec:
    name = "smithy-rpc-v2-cbor"
    codes = ROUTED_REFUSALS
    missing_message = MISSING

    def select(self, service: Loaded, request: Request) -> str:
        found = _PATH.match(request.path)
        target = service.model.metadata.get("targetPrefix")
        if found is None or found.group(1) != target:
            raise Refused("unknown_operation", f"No operation at {request.path}")
        name = service.by_wire_name.get(found.group(2))
        if name is None:
            raise Refused("unknown_operation", f"Operation {found.group(2)} is not known")
        return name

    def parse(self, operation: OperationModel, request: Request) -> Params:
        raw = decode_cbor(request.body)
        shape = operation.input_shape
        if shape is None:
            return {}
        if not isinstance(raw, dict):
            raise Refused("malformed", "The request body must be a CBOR map")
        return document.read_members(shape, raw, CBOR)

    def serialize(self, operation: OperationModel, result: Params, request_id: str) -> Response:
        shape = operation.output_shape
        body = document.write_members(shape, result, CBOR) if shape is not None else {}
        return Response(200, self._headers(request_id), _encode(body))

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        headers = self._headers(request_id) + query_error_header(model, fault)
        return Response(fault.status, headers, _encode(error_document(model, fault, CBOR)))

    def _headers(self, request_id: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/cbor"),
            ("smithy-protocol", "rpc-v2-cbor"),
            ("x-amzn-requestid", request_id),
        ]


def _encode(body: dict[str, Any]) -> bytes:
    return bytes(cbor2.dumps(body))
