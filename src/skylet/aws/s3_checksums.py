"""S3's flexible checksums: ``x-amz-checksum-crc32|crc32c|crc64nvme|sha1|sha256``.

A checksum arrives as a header (its value known before the body) or as an ``aws-chunked``
trailer (after it); either way it is computed while the body streams and compared before the
object is committed (``BadDigest``), then stored and answered on PUT, and on GET/HEAD with
``x-amz-checksum-mode: ENABLED``. A multipart upload's object checksum is COMPOSITE (the
checksum of the parts' checksums, ``-N``) or, for the CRCs, FULL_OBJECT (the parts' CRCs
combined, as if computed over the whole object). The CRCs are awscrt's (AWS's own C runtime:
CRC32C and CRC64/NVME are not in the standard library); SHA-1 and SHA-256 are hashlib's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from awscrt import checksums as crt

from skylet.blobs.base import Checksum
from skylet.errors import S3Error

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
#: The CRCs, with their width in bytes and how two are combined (crc1, crc2, length of 2).
_CRCS: dict[str, tuple[Callable[[bytes, int], int], int, Callable[[int, int, int], int]]] = {
    "CRC32": (crt.crc32, 4, crt.combine_crc32),
    "CRC32C": (crt.crc32c, 4, crt.combine_crc32c),
    "CRC64NVME": (crt.crc64nvme, 8, crt.combine_crc64nvme),
}


def header(algorithm: str) -> str:
    return f"x-amz-checksum-{algorithm.lower()}"


class Hasher:
    """One algorithm computed over a stream: ``update`` per chunk, then ``value`` (base64)."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self._crc = 0
        self._hash = hashlib.new(algorithm.lower()) if algorithm not in _CRCS else None

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)
        else:
            self._crc = _CRCS[self.algorithm][0](data, self._crc)

    def digest(self) -> bytes:
        if self._hash is not None:
            return self._hash.digest()
        return self._crc.to_bytes(_CRCS[self.algorithm][1], "big")

    @property
    def value(self) -> str:
        return base64.b64encode(self.digest()).decode()


def _algorithm(name: str) -> str:
    upper = name.strip().upper()
    if upper not in ALGORITHMS:
        raise S3Error(
            "InvalidRequest",
            f"Value for x-amz-checksum-algorithm header is invalid: {name}",
            400,
        )
    return upper


@dataclass(frozen=True, slots=True)
class Wanted:
    """The checksum a request asks for: its algorithm, and the value it gave in a header
    (None: it comes in a trailer, or the client left it to S3)."""

    algorithm: str
    value: str | None
    trailer: bool = False


def requested(lookup: Mapping[str, str]) -> Wanted | None:
    """The checksum a request's headers ask for (at most one: S3 refuses several)."""
    given = [a for a in ALGORITHMS if header(a) in lookup]
    if len(given) > 1:
        raise S3Error("InvalidRequest", "Expecting a single x-amz-checksum- header", 400)
    trailer = lookup.get("x-amz-trailer", "").strip().lower()
    if trailer:
        trailed = [a for a in ALGORITHMS if header(a) == trailer]
        if not trailed or given:
            raise S3Error("InvalidRequest", f"Invalid x-amz-trailer: {trailer}", 400)
        return Wanted(trailed[0], None, trailer=True)
    named = lookup.get("x-amz-sdk-checksum-algorithm") or lookup.get("x-amz-checksum-algorithm")
    if given:
        algorithm = given[0]
        if named and _algorithm(named) != algorithm:
            raise S3Error(
                "InvalidRequest",
                "Value for x-amz-sdk-checksum-algorithm header is invalid.",
                400,
            )
        return Wanted(algorithm, lookup[header(algorithm)].strip())
    return Wanted(_algorithm(named), None) if named else None


def mismatch(algorithm: str) -> S3Error:
    return S3Error(
        "BadDigest",
        f"The {algorithm} you specified did not match the calculated checksum.",
        400,
    )


def check(algorithm: str, expected: str, computed: str) -> None:
    """BadDigest unless ``expected`` (base64, as sent) is ``computed``."""
    if expected != computed:
        raise mismatch(algorithm)


def _raw(checksum: Checksum) -> bytes:
    try:
        return base64.b64decode(checksum.value.split("-", 1)[0], validate=True)
    except (binascii.Error, ValueError):
        raise mismatch(checksum.algorithm) from None


def of_parts(algorithm: str, kind: str, parts: Sequence[tuple[Checksum | None, int]]) -> Checksum:
    """A multipart object's checksum from its parts' (checksum, size): COMPOSITE, the checksum
    of the concatenated binary part checksums with ``-N``; FULL_OBJECT (CRCs only), the part
    CRCs combined. A part uploaded without this algorithm's checksum is a BadDigest."""
    raws = []
    for checksum, _ in parts:
        if checksum is None or checksum.algorithm != algorithm:
            raise S3Error(
                "BadDigest",
                f"The upload was created using the {algorithm} checksum algorithm, but a part "
                "was uploaded without it.",
                400,
            )
        raws.append(_raw(checksum))
    if kind == "FULL_OBJECT":
        if algorithm not in _CRCS:
            raise S3Error(
                "InvalidRequest",
                f"The FULL_OBJECT checksum type cannot be used with the {algorithm} algorithm",
                400,
            )
        _, width, combine = _CRCS[algorithm]
        crc = int.from_bytes(raws[0], "big")
        for raw, (_, size) in zip(raws[1:], parts[1:], strict=True):
            crc = combine(crc, int.from_bytes(raw, "big"), size)
        value = base64.b64encode(crc.to_bytes(width, "big")).decode()
        return Checksum(algorithm, value, "FULL_OBJECT")
    hasher = Hasher(algorithm)
    for raw in raws:
        hasher.update(raw)
    return Checksum(algorithm, f"{hasher.value}-{len(parts)}", "COMPOSITE")


def response_headers(checksum: Checksum | None) -> dict[str, str]:
    """The headers that answer a checksum (x-amz-checksum-<algorithm>, x-amz-checksum-type)."""
    if checksum is None:
        return {}
    return {header(checksum.algorithm): checksum.value, "x-amz-checksum-type": checksum.type}


def checksum_type(lookup: Mapping[str, str], algorithm: str | None) -> str:
    """The type CreateMultipartUpload asks for: COMPOSITE unless FULL_OBJECT; CRC64NVME is
    FULL_OBJECT only, as on S3."""
    kind = lookup.get("x-amz-checksum-type", "").strip().upper()
    if kind not in ("", "COMPOSITE", "FULL_OBJECT"):
        raise S3Error("InvalidRequest", f"Value for x-amz-checksum-type is invalid: {kind}", 400)
    if algorithm == "CRC64NVME":
        if kind == "COMPOSITE":
            raise S3Error(
                "InvalidRequest",
                "The COMPOSITE checksum type cannot be used with the CRC64NVME algorithm",
                400,
            )
        return "FULL_OBJECT"
    return kind or "COMPOSITE"
