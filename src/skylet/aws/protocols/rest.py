"""What rest-json and rest-xml share: the HTTP bindings of members. An operation is chosen by
method and ``requestUri`` template (``routes.py``); input members come from URI labels, the
query string, headers (one, or a prefix map such as ``x-amz-meta-``), and the body (a payload
member, or the members bound nowhere else); output members go to headers, the status code and
the body. The body's encoding is the subclass's.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from skylet.aws.protocols import values
from skylet.aws.protocols.models import Loaded
from skylet.aws.protocols.routes import compile_route, match
from skylet.aws.protocols.types import Params, Refused, Request, Response


def _is_json_value(shape: Shape) -> bool:
    return shape.type_name == "string" and bool(shape.serialization.get("jsonvalue"))


def split_header_list(value: str) -> list[str]:
    """A header's comma-separated list; an item may be quoted (``"a,b"``, with ``\\"``)."""
    items, current, quoted, escaped = [], [], False, False
    for char in value:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    items.append("".join(current).strip())
    return items


class RestCodec:
    """The bindings; subclasses say how a body is read (:meth:`read_body`) and written."""

    name = "rest"
    content_type = "application/octet-stream"

    # --- the subclass's part ----------------------------------------------------------------

    def read_body(self, shape: StructureShape, body: bytes, *, payload: bool) -> Params:
        """Members from a body: all of ``shape`` (``payload``), or those bound nowhere else."""
        raise NotImplementedError

    def write_body(self, shape: StructureShape, result: Params, *, root: str | None) -> bytes:
        """A body of the members bound nowhere else (``root`` None), or of a payload member
        whose element is named ``root``."""
        raise NotImplementedError

    # --- selecting and reading --------------------------------------------------------------

    def select(self, service: Loaded, request: Request) -> str:
        query = dict(request.query_pairs())
        found = service.route(request.method, request.path, query, request.lowered)
        if found is None:
            raise Refused(
                "unknown_operation", f"No operation takes {request.method} {request.path}"
            )
        return found.operation

    def parse(self, operation: OperationModel, request: Request) -> Params:
        shape = operation.input_shape
        if shape is None:
            return {}
        route = compile_route(
            operation.name, operation.http.get("method", "POST"), operation.http["requestUri"]
        )
        pairs = request.query_pairs()
        found = match([route], request.method, request.path, dict(pairs))
        labels = found.labels if found is not None else {}
        result: Params = {}
        bound: set[str] = set()
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire = member.serialization.get("name", name)
            if location == "uri" and wire in labels:
                result[name] = values.scalar_from_text(member, labels[wire], wire, values.ISO8601)
            elif location == "querystring" and not isinstance(member, MapShape):
                bound.add(wire)
                given = [v for k, v in pairs if k == wire]
                if given and isinstance(member, ListShape):
                    result[name] = [
                        values.scalar_from_text(member.member, v, wire, values.ISO8601)
                        for v in given
                    ]
                elif given:
                    result[name] = values.scalar_from_text(member, given[0], wire, values.ISO8601)
            elif location == "header":
                raw = request.header(wire.lower())
                if raw is not None:
                    result[name] = self._header_value(member, raw, wire)
            elif location == "headers":
                prefix = wire.lower()
                found_map = {
                    k[len(prefix) :]: v for k, v in request.lowered.items() if k.startswith(prefix)
                }
                if found_map:
                    result[name] = found_map
        for name, member in shape.members.items():
            # A map bound to the query string takes the parameters no other member takes.
            if member.serialization.get("location") == "querystring" and isinstance(
                member, MapShape
            ):
                rest: dict[str, Any] = {}
                for k, v in pairs:
                    if k in bound:
                        continue
                    if isinstance(member.value, ListShape):
                        rest.setdefault(k, []).append(v)
                    else:
                        rest.setdefault(k, v)
                if rest:
                    result[name] = rest
        result.update(self._read_payload(shape, request.body))
        for name in shape.required_members:
            if name not in result:
                raise values.missing(shape.members[name].serialization.get("name", name))
        return result

    def _header_value(self, member: Shape, raw: str, wire: str) -> Any:
        if _is_json_value(member):
            try:
                return json.loads(base64.b64decode(raw, validate=True))
            except (binascii.Error, ValueError, RecursionError):
                raise values.invalid(wire, raw, "Member must be base64-encoded JSON") from None
        if isinstance(member, ListShape):
            return [
                values.scalar_from_text(member.member, v, wire, values.RFC822)
                for v in split_header_list(raw)
            ]
        return values.scalar_from_text(member, raw.strip(), wire, values.RFC822)

    def _read_payload(self, shape: StructureShape, body: bytes) -> Params:
        payload = shape.serialization.get("payload")
        if payload is None:
            return self.read_body(shape, body, payload=False) if body.strip() else {}
        member = shape.members[payload]
        if member.type_name == "blob":
            return {payload: body} if body or member.serialization.get("streaming") else {}
        if member.type_name == "string":
            try:
                return {payload: body.decode()} if body else {}
            except UnicodeDecodeError:
                raise values.invalid(payload, "(body)", "Member must be UTF-8 text") from None
        if not body.strip() or not isinstance(member, StructureShape):
            return {}
        return {payload: self.read_body(member, body, payload=True)}

    # --- writing ----------------------------------------------------------------------------

    def serialize(self, operation: OperationModel, result: Params, request_id: str) -> Response:
        status = int(operation.http.get("responseCode", 200))
        headers = self.base_headers(request_id)
        shape = operation.output_shape
        if shape is None:
            return Response(status, headers, b"")
        for name, member in shape.members.items():
            value = result.get(name)
            location = member.serialization.get("location")
            if value is None or location is None:
                continue
            wire = member.serialization.get("name", name)
            if location == "statusCode":
                status = int(value)
            elif location == "header":
                headers.append((wire, self._header_text(member, value)))
            elif location == "headers":
                headers.extend((f"{wire}{k}", str(v)) for k, v in value.items())
        body, content_type = self._write_payload(shape, result)
        if content_type:
            headers.append(("content-type", content_type))
        return Response(status, headers, body)

    def base_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amzn-requestid", request_id)]

    def _header_text(self, member: Shape, value: Any) -> str:
        if _is_json_value(member):
            return base64.b64encode(json.dumps(value, separators=(",", ":")).encode()).decode()
        if isinstance(member, ListShape):
            texts = [values.text_of(member.member, v, values.RFC822) for v in value]
            return ",".join(f'"{t}"' if ("," in t or '"' in t) else t for t in texts)
        return values.text_of(member, value, values.RFC822)

    def _write_payload(self, shape: StructureShape, result: Params) -> tuple[bytes, str | None]:
        payload = shape.serialization.get("payload")
        if payload is None:
            return self.write_body(shape, result, root=None), self.content_type
        member = shape.members[payload]
        value = result.get(payload)
        if value is None:
            return b"", None
        if member.type_name in ("blob", "string"):
            return values.as_bytes(value), None
        assert isinstance(member, StructureShape)
        root = str(member.serialization.get("name", payload))
        return self.write_body(member, value, root=root), self.content_type
