"""``aws-chunked`` request bodies: the framing removed, every chunk signature and the trailer
verified, as S3 verifies them.

Which framing a body has is decided by the *signed* ``x-amz-content-sha256`` alone (never by
``Content-Encoding``, which is not signed): ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (each chunk
signed, the first chunk's signature chained from the request's own, the seed),
``…-PAYLOAD-TRAILER`` (the same, then a signed trailer) and ``STREAMING-UNSIGNED-PAYLOAD-TRAILER``
(no chunk signatures; a trailer with the checksum). The frame is
``<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n``…, ending with a zero-size chunk, then
the trailer lines (``x-amz-checksum-crc32:<base64>``, ``x-amz-trailer-signature:<sig>``) and an
empty line. Data is passed on as it arrives; a bad signature raises before the last chunk is
taken, so the store never commits an object whose chunks did not verify.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator

from skylet.aws.sigv4 import EMPTY_SHA256, Verified
from skylet.errors import S3Error

SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MARKERS = frozenset({SIGNED, SIGNED_TRAILER, UNSIGNED_TRAILER})
#: A chunk's header line and the trailer section are small; past these the body is refused.
MAX_LINE = 4096
MAX_TRAILER = 16384


def chunk_string_to_sign(amz_date: str, scope: str, previous: str, data_sha256: str) -> str:
    """What a chunk's signature signs (AWS's "Signature Calculations … in Multiple Chunks")."""
    return (
        f"AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{data_sha256}"
    )


def trailer_string_to_sign(amz_date: str, scope: str, previous: str, trailer: bytes) -> str:
    """What ``x-amz-trailer-signature`` signs: the trailer lines, each ``name:value\\n``."""
    digest = hashlib.sha256(trailer).hexdigest()
    return f"AWS4-HMAC-SHA256-TRAILER\n{amz_date}\n{scope}\n{previous}\n{digest}"


def _malformed(detail: str) -> S3Error:
    return S3Error("IncompleteBody", f"The aws-chunked body is malformed: {detail}", 400)


def _mismatch(verified: Verified, to_sign: str) -> S3Error:
    return S3Error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
        AWSAccessKeyId=verified.access_key,
        StringToSign=to_sign,
    )


class Dechunker:
    """Decodes one ``aws-chunked`` body (``marker`` is its signed x-amz-content-sha256);
    after :meth:`chunks` is exhausted, :attr:`trailers` holds the trailer's headers (lower-case
    names) and :attr:`size` the decoded size, checked against ``decoded_length`` if given."""

    def __init__(self, marker: str, verified: Verified, decoded_length: int | None) -> None:
        if marker not in MARKERS:
            raise S3Error("InvalidArgument", f"Unsupported x-amz-content-sha256: {marker}", 400)
        self._verified = verified
        self._signed = marker != UNSIGNED_TRAILER
        if self._signed and not verified.seed:  # only header authentication has a seed
            raise S3Error(
                "InvalidArgument", f"{marker} needs an Authorization header's signature", 400
            )
        self._trailer_signed = marker == SIGNED_TRAILER
        self._previous = verified.seed
        self._decoded_length = decoded_length
        self.trailers: dict[str, str] = {}
        self.size = 0
        self._buffer = bytearray()
        self._pieces: AsyncIterator[bytes] = _empty()

    def _chain(self, to_sign: str, provided: str) -> None:
        verified = self._verified
        if not verified.trusted:
            return  # signed with a key whose secret is not known here (local mode)
        expected = hmac.new(verified.key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, provided):
            raise _mismatch(verified, to_sign)
        self._previous = provided

    def _header(self, line: bytes) -> tuple[int, str]:
        size_text, _, extension = line.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise _malformed("a chunk size is not hexadecimal") from None
        name, _, signature = extension.decode("latin-1").strip().partition("=")
        if self._signed and name != "chunk-signature":
            raise _malformed("a chunk has no chunk-signature")
        return size, signature

    async def _more(self) -> bool:
        """Read the next piece of the body into the buffer; False at its end."""
        try:
            self._buffer.extend(await anext(self._pieces))
        except StopAsyncIteration:
            return False
        return True

    async def _line(self, limit: int) -> bytes | None:
        """The next CRLF-terminated line (without it); None if the body ends first."""
        while (end := self._buffer.find(b"\r\n")) < 0:
            if len(self._buffer) > limit:
                raise _malformed("a line is too long")
            if not await self._more():
                return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    async def chunks(self, source: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        self._pieces = aiter(source)
        buffer = self._buffer
        while True:
            line = await self._line(MAX_LINE)
            if line is None:
                raise _malformed("the body ended before the final chunk")
            size, signature = self._header(line)
            digest = hashlib.sha256()
            remaining = size
            while remaining:
                if not buffer and not await self._more():
                    raise _malformed("the body ended inside a chunk")
                take = bytes(buffer[:remaining])
                del buffer[: len(take)]
                remaining -= len(take)
                digest.update(take)
                if remaining == 0 and self._signed:  # verified before the last piece is passed on
                    self._chain(self._chunk_to_sign(digest.hexdigest()), signature)
                self.size += len(take)
                yield take
            if size == 0:
                if self._signed:
                    self._chain(self._chunk_to_sign(EMPTY_SHA256), signature)
                await self._trailer()
                break
            if await self._line(2) != b"":
                raise _malformed("a chunk is longer than its size")
        if self._decoded_length is not None and self.size != self._decoded_length:
            raise S3Error(
                "IncompleteBody",
                "You did not provide the number of bytes specified by the "
                "x-amz-decoded-content-length header.",
                400,
            )
        if buffer or await self._more():
            raise _malformed("data after the trailer")

    def _chunk_to_sign(self, data_sha256: str) -> str:
        verified = self._verified
        return chunk_string_to_sign(verified.amz_date, verified.scope, self._previous, data_sha256)

    async def _trailer(self) -> None:
        """The lines after the final chunk, up to an empty one (or the end of the body)."""
        signed_part = bytearray()
        provided = ""
        while line := await self._line(MAX_TRAILER):
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise _malformed("a trailer line has no ':'")
            name, value = name.strip().lower(), value.strip()
            if name == "x-amz-trailer-signature":
                provided = value
                continue
            self.trailers[name] = value
            signed_part += f"{name}:{value}\n".encode("latin-1")
        if self._trailer_signed:
            verified = self._verified
            to_sign = trailer_string_to_sign(
                verified.amz_date, verified.scope, self._previous, bytes(signed_part)
            )
            self._chain(to_sign, provided)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""
