"""The ``rest-json`` protocol: members bound to the URI, query string and headers, the rest a
JSON body; errors as ``x-amzn-ErrorType`` and ``{"message": …}``. Lambda speaks it (as do API
Gateway, EventBridge Scheduler and most newer services)."""

from __future__ import annotations

from botocore.model import ServiceModel, StructureShape

from skylet import fastjson
from skylet.aws.protocols import document, faults
from skylet.aws.protocols.json_rpc import MISSING, ROUTED_REFUSALS, decode_json
from skylet.aws.protocols.rest import RestCodec
from skylet.aws.protocols.types import Fault, Params, Refused, Response


def _has_body_members(shape: StructureShape) -> bool:
    return any("location" not in m.serialization for m in shape.members.values())


class RestJsonCodec(RestCodec):
    name = "rest-json"
    content_type = "application/json"
    codes = ROUTED_REFUSALS
    missing_message = MISSING

    def read_body(self, shape: StructureShape, body: bytes, *, payload: bool) -> Params:
        raw = decode_json(body)
        if not isinstance(raw, dict):
            raise Refused("malformed", "The request body must be a JSON object")
        return document.read_members(shape, raw, document.JSON, body_only=not payload)

    def write_body(self, shape: StructureShape, result: Params, *, root: str | None) -> bytes:
        if root is None and not _has_body_members(shape):
            return b""
        return fastjson.dumps(document.write_members(shape, result, document.JSON, body_only=True))

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        shape, fields = faults.extra_members(model, fault)
        body: dict[str, object] = {"message": fault.message}
        body.update(document.write_members(shape, fields, document.JSON) if shape else fields)
        headers = [
            *self.base_headers(request_id),
            ("x-amzn-errortype", fault.code),
            ("content-type", "application/json"),
        ]
        return Response(fault.status, headers, fastjson.dumps(body))
