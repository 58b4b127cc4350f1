"""The S3 API's multipart uploads: create, upload a part (from the body, or copied from an
object's byte range: UploadPartCopy), list parts, list a bucket's uploads in progress
(ListMultipartUploads), abort, complete (with the object's checksum made from the parts', and
conditional on the current object like a PUT)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

from skylet.aws import s3_acl, s3_checksums, s3_objects
from skylet.aws.s3_listing import owner
from skylet.aws.s3_wire import S3Request, el, find_all, find_text, integer, iso, parse_xml, xml
from skylet.blobs.base import (
    BlobStore,
    BucketInfo,
    ByteRange,
    Checksum,
    ObjectInfo,
    PartInfo,
    UploadInfo,
    WriteConditions,
)
from skylet.errors import S3Error

_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


def write_conditions(request: S3Request) -> WriteConditions:
    return WriteConditions(request.lookup.get("if-match"), request.lookup.get("if-none-match"))


async def create(blobs: BlobStore, request: S3Request) -> None:
    lookup = request.lookup
    wanted = s3_checksums.requested(lookup)
    algorithm = wanted.algorithm if wanted is not None else None
    kind = s3_checksums.checksum_type(lookup, algorithm) if algorithm else None
    upload_id = await blobs.create_upload(
        request.bucket,
        request.key,
        content_type=lookup.get("content-type"),
        metadata=s3_objects.user_metadata(lookup),
        headers=s3_objects.kept_headers(lookup),
        checksum_algorithm=algorithm,
        checksum_type=kind,
        owner=request.principal,
        acl=s3_acl.canned(lookup),
    )
    result = el("Bucket", request.bucket) + el("Key", request.key) + el("UploadId", upload_id)
    headers = {}
    if algorithm and kind:
        headers = {"x-amz-checksum-algorithm": algorithm, "x-amz-checksum-type": kind}
    await request.respond.xml(200, xml("InitiateMultipartUploadResult", result), headers)


def _part_headers(part: PartInfo) -> dict[str, str]:
    headers = {"etag": f'"{part.etag}"'}
    if part.checksum is not None:
        headers[s3_checksums.header(part.checksum.algorithm)] = part.checksum.value
    return headers


async def upload_part(blobs: BlobStore, request: S3Request) -> None:
    number = integer(request.query["partNumber"], "partNumber")
    body = request.body
    part = await blobs.upload_part(
        request.bucket,
        request.key,
        request.query["uploadId"],
        number,
        body.chunks(),
        lambda: body.checksum,
    )
    await request.respond.empty(200, _part_headers(part))


def copy_source(lookup: dict[str, str]) -> tuple[str, str]:
    """(bucket, key) of ``x-amz-copy-source`` (``bucket/key`` or ``/bucket/key``, encoded)."""
    source = unquote(lookup["x-amz-copy-source"].split("?versionId=", 1)[0]).lstrip("/")
    source_bucket, _, source_key = source.partition("/")
    if not source_key:
        raise S3Error("InvalidArgument", "Copy Source must mention the source bucket and key", 400)
    return source_bucket, source_key


def source_range(header: str, size: int) -> ByteRange:
    """``x-amz-copy-source-range: bytes=first-last``, both given, within the object."""
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        raise S3Error(
            "InvalidArgument",
            "The x-amz-copy-source-range value must be of the form bytes=first-last where "
            "first and last are the zero-based offsets of the first and last bytes to copy",
            400,
        )
    first, last = int(match[1]), int(match[2])
    if first > last or last >= size:
        raise S3Error(
            "InvalidRange",
            "The requested range is not satisfiable",
            416,
            ActualObjectSize=str(size),
        )
    return ByteRange(first, last)


async def upload_part_copy(blobs: BlobStore, request: S3Request, source: ObjectInfo) -> None:
    """UploadPartCopy: the part's bytes are the source object's (or a range of them), read
    and written as a stream."""
    source_bucket, source_key = copy_source(request.lookup)
    wanted = request.lookup.get("x-amz-copy-source-range")
    byte_range = source_range(wanted, source.size) if wanted else None
    _, chunks = await blobs.read(source_bucket, source_key, byte_range)
    number = integer(request.query["partNumber"], "partNumber")
    part = await blobs.upload_part(
        request.bucket, request.key, request.query["uploadId"], number, chunks
    )
    result = el("LastModified", iso(part.last_modified)) + el("ETag", f'"{part.etag}"')
    await request.respond.xml(200, xml("CopyPartResult", result))


async def list_parts(blobs: BlobStore, request: S3Request) -> None:
    upload_id = request.query["uploadId"]
    upload = await blobs.get_upload(request.bucket, request.key, upload_id)
    parts = await blobs.list_parts(request.bucket, request.key, upload_id)
    body = el("Bucket", request.bucket) + el("Key", request.key) + el("UploadId", upload_id)
    if upload.checksum_algorithm:
        body += el("ChecksumAlgorithm", upload.checksum_algorithm)
        body += el("ChecksumType", upload.checksum_type or "COMPOSITE")
    body += el("IsTruncated", "false")
    for part in parts:
        checksum = ""
        if part.checksum is not None:
            checksum = el(f"Checksum{part.checksum.algorithm}", part.checksum.value)
        body += (
            f"<Part>{el('PartNumber', part.number)}"
            f"{el('LastModified', iso(part.last_modified))}"
            f"{el('ETag', chr(34) + part.etag + chr(34))}{el('Size', part.size)}{checksum}</Part>"
        )
    await request.respond.xml(200, xml("ListPartsResult", body))


async def list_uploads(
    blobs: BlobStore, bucket: BucketInfo, principal: str, query: Mapping[str, str]
) -> bytes:
    """ListMultipartUploads: a page of the bucket's uploads in progress, by key then by upload
    (as they started), at most ``max-uploads`` (1000) uploads and common prefixes together."""
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    key_marker = query.get("key-marker", "")
    upload_id_marker = query.get("upload-id-marker", "") if key_marker else ""
    max_uploads = min(integer(query.get("max-uploads", "1000"), "max-uploads"), 1000)
    encoding = query.get("encoding-type")
    if encoding not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
    listing = await blobs.list_uploads(
        bucket.name,
        prefix=prefix,
        delimiter=delimiter,
        key_marker=key_marker,
        upload_id_marker=upload_id_marker,
        max_uploads=max_uploads,
    )

    def name(value: str) -> str:
        return quote(value, safe="/") if encoding == "url" else value

    parts = [
        el("Bucket", bucket.name),
        el("KeyMarker", name(key_marker)),
        el("UploadIdMarker", upload_id_marker),
        el("NextKeyMarker", name(listing.next_key_marker or "")),
        el("NextUploadIdMarker", listing.next_upload_id_marker or ""),
        el("Prefix", name(prefix)),
    ]
    if delimiter:
        parts.append(el("Delimiter", name(delimiter)))
    if encoding:
        parts.append(el("EncodingType", encoding))
    parts.append(el("MaxUploads", max_uploads))
    parts.append(el("IsTruncated", "true" if listing.truncated else "false"))
    for upload in listing.uploads:
        who = upload.owner or bucket.owner or principal
        checksum = ""
        if upload.checksum_algorithm:
            checksum = el("ChecksumAlgorithm", upload.checksum_algorithm)
            checksum += el("ChecksumType", upload.checksum_type or "COMPOSITE")
        parts.append(
            f"<Upload>{el('Key', name(upload.key))}{el('UploadId', upload.upload_id)}"
            f"{owner(who, 'Initiator')}{owner(who)}{el('StorageClass', 'STANDARD')}"
            f"{el('Initiated', iso(upload.initiated))}{checksum}</Upload>"
        )
    for common in listing.common_prefixes:
        parts.append(f"<CommonPrefixes>{el('Prefix', name(common))}</CommonPrefixes>")
    return xml("ListMultipartUploadsResult", "".join(parts))


def _parts_wanted(raw: bytes) -> list[tuple[int, str]]:
    root = parse_xml(raw)
    wanted = []
    for part in find_all(root, "Part"):
        number = find_text(part, "PartNumber")
        etag = find_text(part, "ETag")
        if number is None or etag is None:
            raise S3Error("MalformedXML", "Each Part needs a PartNumber and an ETag", 400)
        wanted.append((integer(number, "PartNumber"), etag))
    return wanted


async def complete(blobs: BlobStore, request: S3Request) -> ObjectInfo:
    # The completion's x-amz-checksum-* header is the object's checksum, not its body's.
    wanted = _parts_wanted(await request.body.read_all(4 << 20, checksummed=False))
    lookup = request.lookup

    def object_checksum(upload: UploadInfo, parts: list[PartInfo]) -> Checksum | None:
        algorithm = upload.checksum_algorithm
        if algorithm is None:
            return None
        kind = upload.checksum_type or "COMPOSITE"
        made = s3_checksums.of_parts(algorithm, kind, [(p.checksum, p.size) for p in parts])
        expected = lookup.get(s3_checksums.header(algorithm))
        if expected is not None:
            s3_checksums.check(algorithm, expected.strip(), made.value)
        return made

    info = await blobs.complete_upload(
        request.bucket,
        request.key,
        request.query["uploadId"],
        wanted,
        checksum=object_checksum,
        conditions=write_conditions(request),
    )
    result = (
        el("Location", f"/{request.bucket}/{quote(request.key)}")
        + el("Bucket", request.bucket)
        + el("Key", request.key)
        + el("ETag", f'"{info.etag}"')
    )
    if info.checksum is not None:
        result += el(f"Checksum{info.checksum.algorithm}", info.checksum.value)
        result += el("ChecksumType", info.checksum.type)
    headers = s3_checksums.response_headers(info.checksum)
    await request.respond.xml(200, xml("CompleteMultipartUploadResult", result), headers)
    return info
