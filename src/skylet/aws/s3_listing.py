"""The S3 API's listings as S3 writes them: ListBuckets (prefix, max-buckets, continuation),
ListObjects v1 and v2 (owners, url encoding), ListObjectVersions of an unversioned bucket
(each object once, version "null")."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import quote

from skylet.aws.s3_acl import owner_id
from skylet.aws.s3_wire import el, integer, iso, xml
from skylet.blobs.base import BlobStore, BucketInfo, ObjectInfo
from skylet.errors import S3Error


def encode_token(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise S3Error(
            "InvalidArgument", "The continuation token provided is incorrect", 400
        ) from None


def owner(key: str, tag: str = "Owner") -> str:
    """An access key as S3 names a principal (``Owner``, or ``Initiator``): its canonical id and
    display name."""
    return f"<{tag}>{el('ID', owner_id(key))}{el('DisplayName', key)}</{tag}>"


def list_buckets(buckets: list[BucketInfo], principal: str, query: Mapping[str, str]) -> bytes:
    """The buckets ``principal`` owns (an owner-less bucket is everyone's), by name."""
    prefix = query.get("prefix", "")
    limit = min(integer(query.get("max-buckets", "10000"), "max-buckets") or 10000, 10000)
    after = decode_token(query["continuation-token"]) if query.get("continuation-token") else ""
    mine = [
        b
        for b in buckets
        if b.owner in ("", principal) and b.name.startswith(prefix) and b.name > after
    ]
    page, more = mine[:limit], len(mine) > limit
    entries = "".join(
        f"<Bucket>{el('Name', b.name)}{el('CreationDate', iso(b.created))}</Bucket>" for b in page
    )
    body = f"{owner(principal)}<Buckets>{entries}</Buckets>"
    if more:
        body += el("ContinuationToken", encode_token(page[-1].name))
    if "prefix" in query:
        body += el("Prefix", prefix)
    return xml("ListAllMyBucketsResult", body)


async def list_objects(
    blobs: BlobStore, bucket: BucketInfo, principal: str, query: Mapping[str, str]
) -> bytes:
    """ListObjectsV2 (``list-type=2``) or ListObjects."""
    v2 = query.get("list-type") == "2"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    max_keys = min(integer(query.get("max-keys", "1000"), "max-keys"), 1000)
    encoding = query.get("encoding-type")
    if encoding not in (None, "url"):
        raise S3Error("InvalidArgument", "Invalid Encoding Method specified in Request", 400)
    encode = encoding == "url"
    if v2:
        token = query.get("continuation-token")
        after = decode_token(token) if token else query.get("start-after", "")
        with_owner = query.get("fetch-owner", "").lower() == "true"
    else:
        after = query.get("marker", "")
        with_owner = True
    listing = await blobs.list_objects(
        bucket.name, prefix=prefix, delimiter=delimiter, start_after=after, max_keys=max_keys
    )

    def name(value: str) -> str:
        return quote(value, safe="/") if encode else value

    # v1 answers its Prefix as given; v2 encodes it with the rest (as S3 does).
    parts = [el("Name", bucket.name), el("Prefix", name(prefix) if v2 else prefix)]
    if v2:
        parts.append(el("KeyCount", len(listing.objects) + len(listing.common_prefixes)))
        if "continuation-token" in query:
            parts.append(el("ContinuationToken", query["continuation-token"]))
        if "start-after" in query:
            parts.append(el("StartAfter", name(query["start-after"])))
        if listing.truncated and listing.next_token is not None:
            parts.append(el("NextContinuationToken", encode_token(listing.next_token)))
    else:
        parts.append(el("Marker", name(after)))
        if listing.truncated and delimiter and listing.next_token is not None:
            parts.append(el("NextMarker", name(listing.next_token)))
    parts.append(el("MaxKeys", max_keys))
    if delimiter:
        parts.append(el("Delimiter", name(delimiter)))
    if encode:
        parts.append(el("EncodingType", "url"))
    parts.append(el("IsTruncated", "true" if listing.truncated else "false"))
    for info in listing.objects:
        who = owner(info.owner or bucket.owner or principal) if with_owner else ""
        parts.append(f"<Contents>{_entry(info, name(info.key))}{who}</Contents>")
    for common in listing.common_prefixes:
        parts.append(f"<CommonPrefixes>{el('Prefix', name(common))}</CommonPrefixes>")
    return xml("ListBucketResult", "".join(parts))


def _entry(info: ObjectInfo, key: str) -> str:
    return (
        f"{el('Key', key)}{el('LastModified', iso(info.last_modified))}"
        f"{el('ETag', chr(34) + info.etag + chr(34))}{el('Size', info.size)}"
        f"{el('StorageClass', 'STANDARD')}"
    )


async def list_versions(
    blobs: BlobStore, bucket: BucketInfo, principal: str, query: Mapping[str, str]
) -> bytes:
    """ListObjectVersions of an unversioned bucket: each object once, ``VersionId`` "null"."""
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    max_keys = min(integer(query.get("max-keys", "1000"), "max-keys"), 1000)
    after = query.get("key-marker", "")
    encode = query.get("encoding-type") == "url"
    listing = await blobs.list_objects(
        bucket.name, prefix=prefix, delimiter=delimiter, start_after=after, max_keys=max_keys
    )

    def name(value: str) -> str:
        return quote(value, safe="/") if encode else value

    parts = [
        el("Name", bucket.name),
        el("Prefix", name(prefix)),
        el("KeyMarker", name(after)),
        el("VersionIdMarker", query.get("version-id-marker", "")),
        el("MaxKeys", max_keys),
    ]
    if delimiter:
        parts.append(el("Delimiter", name(delimiter)))
    if encode:
        parts.append(el("EncodingType", "url"))
    parts.append(el("IsTruncated", "true" if listing.truncated else "false"))
    if listing.truncated and listing.next_token is not None:
        parts.append(el("NextKeyMarker", name(listing.next_token)))
        parts.append(el("NextVersionIdMarker", "null"))
    for info in listing.objects:
        who = owner(info.owner or bucket.owner or principal)
        parts.append(
            f"<Version>{_entry(info, name(info.key))}{el('VersionId', 'null')}"
            f"{el('IsLatest', 'true')}{who}</Version>"
        )
    for common in listing.common_prefixes:
        parts.append(f"<CommonPrefixes>{el('Prefix', name(common))}</CommonPrefixes>")
    return xml("ListVersionsResult", "".join(parts))
