"""The S3 API's wire: the request body (framing removed, every digest it claims checked), the
responses (XML documents, empty answers, streamed objects), and the small XML helpers."""

from __future__ import annotations

import hashlib
import time
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import unquote_to_bytes
from xml.sax.saxutils import escape

from skylet.asgi import Receive, Send
from skylet.aws import s3_checksums, s3_streaming
from skylet.aws.sigv4 import Verified
from skylet.blobs.base import Checksum
from skylet.errors import S3Error

XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch))


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


def xml(root: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{XMLNS}">{body}</{root}>'.encode()
    )


def el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


def parse_xml(raw: bytes) -> ET.Element:
    try:
        return ET.fromstring(raw)
    except ET.ParseError:
        raise malformed_xml() from None


def malformed_xml() -> S3Error:
    return S3Error(
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
        400,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find_all(root: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in root if _local(child.tag) == name]


def find_text(root: ET.Element, name: str) -> str | None:
    for child in root:
        if _local(child.tag) == name:
            return child.text or ""
    return None


def integer(value: str, name: str) -> int:
    """A non-negative integer parameter, refused as S3 refuses it."""
    try:
        number = int(value)
    except ValueError:
        raise S3Error(
            "InvalidArgument", f"Provided {name} not an integer or within integer range", 400
        ) from None
    if number < 0:
        raise S3Error(
            "InvalidArgument", f"Argument {name} must be an integer between 0 and 2147483647", 400
        )
    return number


def path_name(raw: str) -> str:
    """A bucket name or key from the request's path as sent (``raw``: its bytes as Latin-1),
    percent-escapes decoded as UTF-8. S3's names are UTF-8: bytes that are not (``%AE``
    alone) are S3's 400 InvalidURI, not a key nobody could have written."""
    try:
        return unquote_to_bytes(raw.encode("latin-1")).decode("utf-8")
    except UnicodeError:
        raise S3Error("InvalidURI", "Couldn't parse the specified URI.", 400, URI=raw) from None


def not_implemented(method: str, what: str) -> S3Error:
    return S3Error(
        "NotImplemented",
        f"A header or query you provided implies functionality that is not implemented: "
        f"{method} {what}",
        501,
    )


async def nothing() -> AsyncIterator[bytes]:
    return
    yield b""


class RequestBody:
    """The request body as chunks, every claim about it checked while it streams: the signed
    ``x-amz-content-sha256`` (a hex SHA-256, or the aws-chunked framing it names, whose chunk
    signatures and trailer are verified) and a flexible checksum (header or trailer). A check
    that fails raises from the last chunk, so a store never commits what did not verify; once
    the chunks are exhausted :attr:`checksum` is the one computed (None if none was asked)."""

    def __init__(self, receive: Receive, lookup: Mapping[str, str], verified: Verified) -> None:
        self._receive = receive
        marker = verified.payload_hash
        self._sha256 = marker if len(marker) == 64 else None
        self._dechunker = None
        if marker in s3_streaming.MARKERS:
            decoded = lookup.get("x-amz-decoded-content-length")
            length = integer(decoded, "x-amz-decoded-content-length") if decoded else None
            self._dechunker = s3_streaming.Dechunker(marker, verified, length)
        self._lookup = lookup
        self.checksum: Checksum | None = None

    async def _raw(self) -> AsyncIterator[bytes]:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise S3Error(
                    "IncompleteBody",
                    "The client closed the connection before sending the whole body",
                    400,
                )
            chunk = message.get("body", b"")
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def chunks(self, checksummed: bool = True) -> AsyncIterator[bytes]:
        """``checksummed=False``: an ``x-amz-checksum-*`` header is not the body's (a
        completion's names the object's)."""
        dechunker = self._dechunker
        wanted = s3_checksums.requested(self._lookup) if checksummed else None
        if wanted is not None and wanted.trailer and dechunker is None:
            raise S3Error(
                "InvalidRequest", "x-amz-trailer needs a STREAMING-…-TRAILER payload", 400
            )
        source = self._raw() if dechunker is None else dechunker.chunks(self._raw())
        digest = hashlib.sha256() if self._sha256 is not None else None
        hasher = s3_checksums.Hasher(wanted.algorithm) if wanted is not None else None
        async for chunk in source:
            if digest is not None:
                digest.update(chunk)
            if hasher is not None:
                hasher.update(chunk)
            yield chunk
        if digest is not None and digest.hexdigest() != self._sha256:
            raise S3Error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                400,
            )
        if wanted is not None and hasher is not None:
            expected = wanted.value
            if wanted.trailer and dechunker is not None:
                expected = dechunker.trailers.get(s3_checksums.header(wanted.algorithm))
                if expected is None:
                    raise S3Error(
                        "MalformedTrailerError",
                        "The request contained trailing data that was not well-formed or did "
                        "not conform to our published schema.",
                        400,
                    )
            if expected is not None:
                s3_checksums.check(wanted.algorithm, expected, hasher.value)
            self.checksum = Checksum(wanted.algorithm, hasher.value)

    async def read_all(self, limit: int, checksummed: bool = True) -> bytes:
        parts = []
        size = 0
        async for chunk in self.chunks(checksummed):
            size += len(chunk)
            if size > limit:
                raise S3Error("MaxMessageLengthExceeded", "Your request was too big.", 400)
            parts.append(chunk)
        return b"".join(parts)


class Responder:
    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self._request_id = request_id

    async def xml(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        headers = {"content-type": "application/xml", **(headers or {})}
        await respond(self._send, status, body, headers, self._request_id)

    async def empty(self, status: int, headers: dict[str, str] | None = None) -> None:
        await respond(self._send, status, b"", headers or {}, self._request_id)

    async def stream(
        self, status: int, headers: dict[str, str], chunks: AsyncIterator[bytes], method: str
    ) -> None:
        raw = raw_headers(headers, self._request_id)
        await self._send({"type": "http.response.start", "status": status, "headers": raw})
        if method == "HEAD":
            await self._send({"type": "http.response.body", "body": b""})
            return
        async for chunk in chunks:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
        await self._send({"type": "http.response.body", "body": b""})


def raw_headers(headers: dict[str, str], request_id: str) -> list[tuple[bytes, bytes]]:
    """Header values go out as the bytes they came in as (they were decoded as Latin-1)."""
    raw = [
        (k.lower().encode("latin-1"), v.encode("latin-1", "replace")) for k, v in headers.items()
    ]
    raw.append((b"x-amz-request-id", request_id.encode()))
    raw.append((b"x-amz-id-2", request_id.encode()))
    return raw


async def respond(
    send: Send, status: int, body: bytes, headers: dict[str, str], request_id: str
) -> None:
    raw = raw_headers(headers, request_id)
    if "content-length" not in headers:
        raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


@dataclass
class S3Request:
    """One request to the S3 API, as the operations see it: what it names, its headers
    (lower-case names, values decoded as Latin-1 so they keep their bytes), the S3 query
    parameters, its body, how to answer, who signed it ("" anonymous) and where from."""

    method: str
    bucket: str
    key: str
    query: dict[str, str]
    lookup: dict[str, str]
    body: RequestBody
    respond: Responder
    principal: str
    source_ip: str
    request_id: str
