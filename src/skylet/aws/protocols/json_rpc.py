"""The ``json`` protocol (awsJson 1.0 and 1.1): ``POST /`` with ``X-Amz-Target:
{targetPrefix}.{Operation}``, the input as a JSON object, the output as one; errors as
``{"__type": code, "message": …}``, with ``x-amzn-query-error`` for a service that came from
the query protocol (SQS: the SDK maps the legacy code back to its exception). DynamoDB, SQS,
KMS, EventBridge, Secrets Manager, SSM, CloudWatch Logs speak it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel

from skylet import fastjson
from skylet.aws.protocols import document, faults
from skylet.aws.protocols.models import Loaded
from skylet.aws.protocols.types import Fault, Params, Refusal, Refused, Request, Response

MISSING = (
    "1 validation error detected: Value null at '{member}' failed to satisfy constraint: "
    "Member must not be null"
)
#: How the JSON protocols answer a refused request; JSON RPC names its operation in a header,
#: so an unknown one is a 400.
REFUSALS: Mapping[Refusal, tuple[str, int]] = {
    "malformed": ("SerializationException", 400),
    "invalid": ("SerializationException", 400),
    "missing": ("ValidationException", 400),
    "unknown_operation": ("UnknownOperationException", 400),
    "not_implemented": ("UnknownOperationException", 400),
}
#: The same for the protocols that name the operation in the path (rest-json, CBOR): 404.
ROUTED_REFUSALS: Mapping[Refusal, tuple[str, int]] = {
    **REFUSALS,
    "unknown_operation": ("UnknownOperationException", 404),
    "not_implemented": ("UnknownOperationException", 404),
}


def decode_json(body: bytes) -> Any:
    """A JSON body (empty is ``{}``); Refused("malformed") when it is not JSON."""
    if not body.strip():
        return {}
    try:
        return fastjson.loads(body)
    except (ValueError, RecursionError):
        raise Refused("malformed", "The request body is not valid JSON") from None


def query_error_header(model: ServiceModel, fault: Fault) -> list[tuple[str, str]]:
    """``x-amzn-query-error: {code};{Sender|Receiver}`` for a query-compatible service, when
    the code its query clients know differs from the one written."""
    if fault.query_code is None or not model.is_query_compatible:
        return []
    return [
        (
            "x-amzn-query-error",
            f"{fault.query_code};{'Sender' if fault.sender_fault else 'Receiver'}",
        )
    ]


def error_document(
    model: ServiceModel, fault: Fault, scalars: document.JsonScalars
) -> dict[str, Any]:
    shape, fields = faults.extra_members(model, fault)
    body: dict[str, Any] = {"__type": fault.code, "message": fault.message}
    if shape is not None:
        body.update(document.write_members(shape, fields, scalars))
    else:
        body.update(fields)
    return body


class JsonCodec:
    name = "json"
    codes = REFUSALS
    missing_message = MISSING

    def select(self, service: Loaded, request: Request) -> str:
        target = request.header("x-amz-target") or ""
        prefix, _, wire = target.rpartition(".")
        name = service.by_wire_name.get(wire)
        if prefix != service.model.metadata.get("targetPrefix") or name is None:
            raise Refused("unknown_operation", f"Operation {target or '(none)'} is not known")
        return name

    def parse(self, operation: OperationModel, request: Request) -> Params:
        shape = operation.input_shape
        raw = decode_json(request.body)
        if shape is None:
            return {}
        if not isinstance(raw, dict):
            raise Refused("malformed", "The request body must be a JSON object")
        return document.read_members(shape, raw, document.JSON)

    def serialize(self, operation: OperationModel, result: Params, request_id: str) -> Response:
        shape = operation.output_shape
        body = document.write_members(shape, result, document.JSON) if shape is not None else {}
        return Response(
            200, self._headers(operation.service_model, request_id), fastjson.dumps(body)
        )

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        headers = self._headers(model, request_id) + query_error_header(model, fault)
        body = fastjson.dumps(error_document(model, fault, document.JSON))
        return Response(fault.status, headers, body)

    def _headers(self, model: ServiceModel, request_id: str) -> list[tuple[str, str]]:
        version = model.metadata.get("jsonVersion", "1.0")
        return [
            ("content-type", f"application/x-amz-json-{version}"),
            ("x-amzn-requestid", request_id),
        ]
