"""GetObjectAttributes: what S3 says of an object without sending it (its ETag, checksum,
parts, storage class and size, each only when asked for), and the checksum of the bytes a GET
answers (the whole object's, or one part's). Pure."""

from __future__ import annotations

from collections.abc import Mapping

from skylet.aws.s3_wire import el, xml
from skylet.blobs.base import Checksum, ObjectInfo
from skylet.errors import S3Error

ATTRIBUTES = ("ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize")
#: The most parts one answer lists (S3's default and limit for ``x-amz-max-parts``).
MAX_PARTS = 1000


def wanted(lookup: Mapping[str, str]) -> frozenset[str]:
    """The attributes ``x-amz-object-attributes`` asks for (comma-separated), refused as S3
    refuses a missing or empty header, or a name it does not know."""
    names = [n.strip() for n in lookup.get("x-amz-object-attributes", "").split(",")]
    names = [n for n in names if n]
    if not names:
        raise S3Error(
            "InvalidRequest",
            "The x-amz-object-attributes header specifying the attributes to be retrieved is "
            "either missing or empty",
            400,
        )
    for name in names:
        if name not in ATTRIBUTES:
            raise S3Error(
                "InvalidArgument",
                "Invalid attribute name specified.",
                400,
                ArgumentName="x-amz-object-attributes",
                ArgumentValue=name,
            )
    return frozenset(names)


def _number(lookup: Mapping[str, str], header: str, default: int) -> int:
    """A number header S3 reads leniently: a value that is not a non-negative integer is
    ignored (the default applies), as S3 ignores it."""
    try:
        value = int(lookup.get(header, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def part_checksum(info: ObjectInfo, number: int) -> Checksum | None:
    """Part ``number``'s checksum (1-based), when the object keeps its parts' checksums."""
    if info.checksum is None or not 1 <= number <= len(info.part_checksums):
        return None
    return Checksum(info.checksum.algorithm, info.part_checksums[number - 1], info.checksum.type)


def _object_parts(info: ObjectInfo, lookup: Mapping[str, str]) -> str:
    """``ObjectParts`` of a multipart object. As on S3's general purpose buckets, the parts
    themselves are listed only when they carry checksums; otherwise only their count is."""
    count = el("PartsCount", len(info.parts))
    if not info.part_checksums or info.checksum is None:
        return f"<ObjectParts>{count}</ObjectParts>"
    marker = _number(lookup, "x-amz-part-number-marker", 0)
    limit = min(_number(lookup, "x-amz-max-parts", MAX_PARTS), MAX_PARTS)
    numbers = range(marker + 1, len(info.parts) + 1)
    listed, truncated = numbers[:limit], len(numbers) > limit
    body = count + el("PartNumberMarker", marker)
    if truncated and listed:
        body += el("NextPartNumberMarker", listed[-1])
    body += el("MaxParts", limit) + el("IsTruncated", "true" if truncated else "false")
    name = f"Checksum{info.checksum.algorithm}"
    for number in listed:
        body += (
            f"<Part>{el('PartNumber', number)}{el('Size', info.parts[number - 1])}"
            f"{el(name, info.part_checksums[number - 1])}</Part>"
        )
    return f"<ObjectParts>{body}</ObjectParts>"


def document(info: ObjectInfo, attributes: frozenset[str], lookup: Mapping[str, str]) -> bytes:
    """The GetObjectAttributes answer: the attributes asked for that the object has (no
    ``Checksum`` without one, no ``ObjectParts`` unless it was uploaded in parts), in S3's
    order. The ETag goes without quotes, as S3 writes it here."""
    body = ""
    if "ETag" in attributes:
        body += el("ETag", info.etag)
    if "Checksum" in attributes and info.checksum is not None:
        value = el(f"Checksum{info.checksum.algorithm}", info.checksum.value)
        body += f"<Checksum>{value}{el('ChecksumType', info.checksum.type)}</Checksum>"
    if "ObjectParts" in attributes and info.parts:
        body += _object_parts(info, lookup)
    if "StorageClass" in attributes:
        body += el("StorageClass", "STANDARD")
    if "ObjectSize" in attributes:
        body += el("ObjectSize", info.size)
    return xml("GetObjectAttributesResponse", body)
