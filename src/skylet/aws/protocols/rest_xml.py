"""The ``rest-xml`` protocol: members bound to the URI, query string and headers, the rest an
XML body; errors as XML (S3's bare ``<Error>``, the others' ``<ErrorResponse>``). S3 speaks it
(as do Route 53 and CloudFront)."""

from __future__ import annotations

from collections.abc import Mapping

from botocore.model import ServiceModel, StructureShape

from skylet.aws.protocols import faults, xmltree
from skylet.aws.protocols.rest import RestCodec
from skylet.aws.protocols.types import Fault, Params, Refusal, Response

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _is_s3(model: ServiceModel) -> bool:
    return bool(model.metadata.get("serviceId") == "S3")


class RestXmlCodec(RestCodec):
    name = "rest-xml"
    content_type = "application/xml"
    codes: Mapping[Refusal, tuple[str, int]] = {
        "malformed": ("MalformedXML", 400),
        "invalid": ("InvalidArgument", 400),
        "missing": ("InvalidArgument", 400),
        "unknown_operation": ("MethodNotAllowed", 405),
        "not_implemented": ("NotImplemented", 501),
    }
    missing_message = "The request must carry {member}."

    def read_body(self, shape: StructureShape, body: bytes, *, payload: bool) -> Params:
        return xmltree.read_structure(shape, xmltree.parse(body), "")

    def write_body(self, shape: StructureShape, result: Params, *, root: str | None) -> bytes:
        body_members = [m for m in shape.members.values() if "location" not in m.serialization]
        if root is None and not body_members:
            return b""
        name = root or str(shape.serialization.get("name", shape.name))
        out = [_DECLARATION]
        xmltree.write(shape, name, result, out, head=xmltree.namespace_attribute(shape))
        return "".join(out).encode()

    def error(self, model: ServiceModel, fault: Fault, request_id: str) -> Response:
        shape, fields = faults.extra_members(model, fault)
        message = xmltree.text(fault.message)
        code = f"<Code>{xmltree.text(fault.code)}</Code><Message>{message}</Message>"
        out = [_DECLARATION]
        if _is_s3(model):
            out.append(f"<Error>{code}")
        else:
            kind = "Sender" if fault.sender_fault else "Receiver"
            out.append(f"<ErrorResponse><Error><Type>{kind}</Type>{code}")
        if shape is not None:
            xmltree.write_members(shape, fields, out)
        else:
            out.extend(f"<{k}>{xmltree.text(str(v))}</{k}>" for k, v in fields.items())
        rid = f"<RequestId>{xmltree.text(request_id)}</RequestId>"
        out.append(f"{rid}</Error>" if _is_s3(model) else f"</Error>{rid}</ErrorResponse>")
        headers = [*self.base_headers(request_id), ("content-type", self.content_type)]
        return Response(fault.status, headers, "".join(out).encode())

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        # S3's own request id headers; botocore reads either these or x-amzn-RequestId.
        return [("x-amz-request-id", request_id), ("x-amz-id-2", request_id)]
