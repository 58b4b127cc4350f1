"""aws-chunked bodies: AWS's worked example of a chunk-signed upload ("Signature Calculations
for the Authorization Header: Transferring Payload in Multiple Chunks"), and botocore's own
framing of an unsigned body with a trailing checksum. No sockets."""

from __future__ import annotations

import calendar
import io
import time
from collections.abc import AsyncIterator

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from skylet.asgi import Message, Receive
from skylet.aws import sigv4
from skylet.aws.s3_streaming import Dechunker
from skylet.aws.s3_wire import RequestBody
from skylet.errors import S3Error

pytestmark = pytest.mark.anyio

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
WHEN = float(calendar.timegm(time.strptime("20130524T000000Z", "%Y%m%dT%H%M%SZ")))
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_1 = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
CHUNK_2 = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
FINAL = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
HEADERS = [
    ("Host", "s3.amazonaws.com"),
    ("x-amz-date", "20130524T000000Z"),
    ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
    (
        "Authorization",
        f"AWS4-HMAC-SHA256 Credential={ACCESS}/20130524/us-east-1/s3/aws4_request,"
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        f"x-amz-decoded-content-length;x-amz-storage-class,Signature={SEED}",
    ),
    ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
    ("Content-Encoding", "aws-chunked"),
    ("x-amz-decoded-content-length", "66560"),
    ("Content-Length", "66824"),
]


def documented_body(second: bytes = b"a" * 1024, final: str = FINAL) -> bytes:
    return (
        f"10000;chunk-signature={CHUNK_1}\r\n".encode()
        + b"a" * 65536
        + f"\r\n400;chunk-signature={CHUNK_2}\r\n".encode()
        + second
        + f"\r\n0;chunk-signature={final}\r\n\r\n".encode()
    )


def verified() -> sigv4.Verified:
    credentials = sigv4.Credentials({ACCESS: SECRET})
    path = "/examplebucket/chunkObject.txt"
    return sigv4.verify_header(credentials, "PUT", path, "", HEADERS, now=WHEN)


async def pieces(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def decode(dechunker: Dechunker, body: bytes) -> bytes:
    return b"".join([chunk async for chunk in dechunker.chunks(pieces(body))])


async def test_the_documented_chunk_signed_upload_decodes_to_its_66560_bytes() -> None:
    seeded = verified()
    assert seeded.seed == SEED
    dechunker = Dechunker(seeded.payload_hash, seeded, 66560)
    assert await decode(dechunker, documented_body()) == b"a" * 66560


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(documented_body(second=b"b" + b"a" * 1023), id="a changed byte"),
        pytest.param(documented_body(final="0" * 64), id="a wrong final signature"),
    ],
)
async def test_a_chunk_that_does_not_match_its_signature_is_refused(body: bytes) -> None:
    seeded = verified()
    with pytest.raises(S3Error) as error:
        await decode(Dechunker(seeded.payload_hash, seeded, 66560), body)
    assert error.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("body", "length"),
    [
        pytest.param(documented_body()[:-40], 66560, id="the body ends in the final chunk"),
        pytest.param(documented_body(), 70000, id="decoded length differs"),
        pytest.param(documented_body() + b"extra", 66560, id="data after the trailer"),
    ],
)
async def test_a_malformed_stream_is_an_incomplete_body(body: bytes, length: int) -> None:
    seeded = verified()
    with pytest.raises(S3Error) as error:
        await decode(Dechunker(seeded.payload_hash, seeded, length), body)
    assert error.value.code == "IncompleteBody"


def botocore_stream(data: bytes, checksum: type, name: str) -> bytes:
    """What botocore sends for an upload with a trailing checksum (its own framing)."""
    return AwsChunkedWrapper(io.BytesIO(data), checksum, name, chunk_size=1000).read()


def receive_of(body: bytes) -> Receive:
    sent = [
        {"type": "http.request", "body": chunk, "more_body": True}
        for chunk in (body[i : i + 700] for i in range(0, len(body), 700))
    ]
    sent.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> Message:
        return sent.pop(0)

    return receive


async def read(body: RequestBody) -> bytes:
    return b"".join([chunk async for chunk in body.chunks()])


UNSIGNED_TRAILER = sigv4.Verified(ACCESS, "STREAMING-UNSIGNED-PAYLOAD-TRAILER")


async def test_botocores_unsigned_stream_with_a_crc32_trailer_is_decoded_and_checked() -> None:
    data = b"hello, trailer" * 300
    lookup = {"x-amz-trailer": "x-amz-checksum-crc32", "x-amz-decoded-content-length": "4200"}
    framed = botocore_stream(data, Crc32Checksum, "x-amz-checksum-crc32")
    body = RequestBody(receive_of(framed), lookup, UNSIGNED_TRAILER)
    assert await read(body) == data
    assert body.checksum is not None
    checksum = Crc32Checksum()
    checksum.update(data)
    assert body.checksum.value == checksum.b64digest()


async def test_a_trailing_checksum_that_does_not_match_the_data_is_a_bad_digest() -> None:
    framed = botocore_stream(b"original", Sha256Checksum, "x-amz-checksum-sha256")
    tampered = framed.replace(b"original", b"tampered")
    lookup = {"x-amz-trailer": "x-amz-checksum-sha256"}
    body = RequestBody(receive_of(tampered), lookup, UNSIGNED_TRAILER)
    with pytest.raises(S3Error) as error:
        await read(body)
    assert error.value.code == "BadDigest"


async def test_an_unsigned_content_encoding_does_not_switch_off_the_payload_hash() -> None:
    """The framing is what the signed x-amz-content-sha256 says: a hex hash means the bytes as
    sent, whatever Content-Encoding claims."""
    signed_for = sigv4.Verified(ACCESS, "0" * 64)
    framed = b"5\r\nhello\r\n0\r\n\r\n"
    body = RequestBody(receive_of(framed), {"content-encoding": "aws-chunked"}, signed_for)
    with pytest.raises(S3Error) as error:
        await read(body)
    assert error.value.code == "XAmzContentSHA256Mismatch"
