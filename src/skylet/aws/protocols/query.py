"""The ``query`` protocol: form parameters (a POSTed ``application/x-www-form-urlencoded`` body,
or the query string of a GET) with ``Action`` and ``Version``; the output as
``<{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata><RequestId>…``; errors as
``<ErrorResponse><Error><Type>Sender</Type><Code>…``. SNS, STS and (for older SDKs) SQS and
CloudWatch speak it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from botocore.model import OperationModel, ServiceModel

from skylet.aws.protocols import faults, form, xmltree
from skylet.aws.protocols.models import Loaded
from skylet.aws.protocols.types import Fault, Params, Refusal, Refused, Request, Response

_XML = "text/xml"


def is_form(request: Request) -> bool:
    content_type = (request.header("content-type") or "").lower()
    return content_type.startswith("application/x-www-form-urlencoded")


def parameters(request: Request) -> list[tuple[str, str]]:
    """The form's pairs: the body's when it is a form, the query string's otherwise (read
    once per request)."""
    pairs: list[tuple[str, str]] | None = request.memo.get("form")
    if pairs is None:
        pairs = request.memo["form"] = _read_parameters(request)
    return pairs


def _read_parameters(request: Request) -> list[tuple[str, str]]:
    if request.method.upper() == "POST" and is_form(request):
        try:
            text = request.body.decode()
        except UnicodeDecodeError:
            raise Refused("malformed", "The form is not UTF-8") from None
        try:
            return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
        except ValueError:
            raise Refused("malformed", "The form is not well-formed") from None
    return request.query_pairs()


def action(request: Request) -> str | None:
    for name, value in parameters(request):
        if name == "Action":
            return value
    return None


class QueryCodec:
    name = "query"
    codes: Mapping[Refusal, tuple[str, int]] = {
        "malformed": ("MalformedQueryString", 400),
        "invalid": ("InvalidParameterValue", 400),
        "missing": ("MissingParameter", 400),
        "unknown_operation": ("InvalidAction", 400),
        "not_implemented": ("InvalidAction", 400),
    }
    missing_message = "The request must contain the parameter {member}."

    def select(self, service: Loaded, request: Request) -> str:
        wire = action(request)
        name = service.by_wire_name.get(wire or "")
        if name is None:
            raise Refused(
                "unknown_operation",
                f"The action {wire or '(none)'} is not valid for this web service.",
            )
        return name

    def parse(self, operation: OperationModel, request: Request) -> Params:
        shape = operation.input_shape
        pairs = [(k, v) for k, v in parameters(request) if k not in ("Action", "Version")]
        if shape is None:
            return {}
        return form.read_structure(shape, form.fold(pairs))

    def serialize(self, operation: OperationModel, result: Params, request_id: str) -> Response:
        model = operation.service_model
        op = operation.wire_name
        out = [f"<{op}Response{xmltree.namespace_attribute(None, _namespace(model))}>"]
        shape = operation.output_shape
        if shape is not None:
            wrapper = shape.serialization.get("resultWrapper", f"{op}Result")
            out.append(f"<{wrapper}>")
            xmltree.write_members(shape, result, out)
            out.append(f"</{wrapper}>")
        out.append(_metadata(request_id))
        out.append(f"</{op}Response>")
        return Response(200, _headers(request_id), "".join(out).encode())

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        return Response(
            fault.status, _headers(request_id), error_document(model, fault, request_id)
        )


def error_document(model: ServiceModel, fault: Fault, request_id: str) -> bytes:
    """``<ErrorResponse>``, with the code query clients know (the model's ``awsQueryError``)."""
    shape, fields = faults.extra_members(model, fault)
    out = [
        f"<ErrorResponse{xmltree.namespace_attribute(None, _namespace(model))}><Error>",
        f"<Type>{'Sender' if fault.sender_fault else 'Receiver'}</Type>",
        f"<Code>{xmltree.text(fault.query_code or fault.code)}</Code>",
        f"<Message>{xmltree.text(fault.message)}</Message>",
    ]
    if shape is not None:
        xmltree.write_members(shape, fields, out)
    else:
        out.extend(f"<{k}>{xmltree.text(str(v))}</{k}>" for k, v in fields.items())
    out.append(f"</Error><RequestId>{xmltree.text(request_id)}</RequestId></ErrorResponse>")
    return "".join(out).encode()


def _namespace(model: ServiceModel) -> str | None:
    namespace = model.metadata.get("xmlNamespace")
    return namespace if isinstance(namespace, str) else None


def _metadata(request_id: str) -> str:
    return f"<ResponseMetadata><RequestId>{xmltree.text(request_id)}</RequestId></ResponseMetadata>"


def _headers(request_id: str) -> list[tuple[str, str]]:
    return [("content-type", _XML), ("x-amzn-requestid", request_id)]
