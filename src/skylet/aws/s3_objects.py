"""What an object request says and what its answer carries: the headers S3 keeps, user
metadata (2 KB at most), the headers a GET/HEAD answers (with ``response-*`` overrides and,
when asked, the checksum), and the conditions of reads and copies. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from skylet.aws import s3_checksums
from skylet.aws.s3_wire import http_date
from skylet.blobs.base import Checksum, ObjectInfo
from skylet.errors import S3Error

#: Stored with an object and sent back on GET/HEAD, as S3 keeps them.
KEPT_HEADERS = (
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
)
#: ``response-*`` query parameters → the header of a GET/HEAD answer they set.
OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-disposition": "content-disposition",
    "response-cache-control": "cache-control",
    "response-content-encoding": "content-encoding",
    "response-content-language": "content-language",
    "response-expires": "expires",
}
#: S3's limit on user-defined metadata: the UTF-8 bytes of every name (without
#: ``x-amz-meta-``) and value, added up.
MAX_METADATA_BYTES = 2048
_META = "x-amz-meta-"


def kept_headers(lookup: Mapping[str, str]) -> dict[str, str]:
    """The headers stored with an object. ``aws-chunked`` is how the body was framed on the
    way in, not how it is encoded: S3 drops it from Content-Encoding (and the header with it
    when nothing else is left)."""
    kept = {k: lookup[k] for k in KEPT_HEADERS if k in lookup}
    if "content-encoding" in kept:
        codings = [c.strip() for c in kept["content-encoding"].split(",")]
        left = [c for c in codings if c and c.lower() != "aws-chunked"]
        if left:
            kept["content-encoding"] = ", ".join(left)
        else:
            del kept["content-encoding"]
    return kept


def user_metadata(lookup: Mapping[str, str]) -> dict[str, str]:
    """``x-amz-meta-*`` headers, refused past S3's 2 KB (MetadataTooLarge)."""
    metadata = {k[len(_META) :]: v for k, v in lookup.items() if k.startswith(_META)}
    size = sum(len(k.encode()) + len(v.encode("latin-1", "replace")) for k, v in metadata.items())
    if size > MAX_METADATA_BYTES:
        raise S3Error(
            "MetadataTooLarge",
            "Your metadata headers exceed the maximum allowed metadata size",
            400,
            Size=str(size),
            MaxSizeAllowed=str(MAX_METADATA_BYTES),
        )
    return metadata


def check_overrides(query: Mapping[str, str], anonymous: bool) -> None:
    """``response-*`` values become response headers: one with a line break would split the
    answer, so it is refused; S3 allows them on signed requests only."""
    given = [name for name in OVERRIDES if name in query]
    if given and anonymous:
        raise S3Error(
            "InvalidRequest",
            "Request specific response headers cannot be used for anonymous GET requests.",
            400,
        )
    for name in given:
        if any(c in query[name] for c in "\r\n\0"):
            raise S3Error(
                "InvalidArgument",
                f"Header value cannot be represented using ISO-8859-1: {name}",
                400,
                ArgumentName=name,
                ArgumentValue=query[name][:64],
            )


def object_headers(
    info: ObjectInfo,
    lookup: Mapping[str, str],
    query: Mapping[str, str],
    checksum: Checksum | None,
) -> dict[str, str]:
    """The headers of a GET/HEAD answer: the object's, the ``checksum`` of the bytes answered
    when the request says ``x-amz-checksum-mode: ENABLED`` (the whole object's or one part's;
    None for a byte range, which has none of its own), then the ``response-*`` overrides,
    which win."""
    headers = {
        "etag": f'"{info.etag}"',
        "last-modified": http_date(info.last_modified),
        "content-type": info.content_type,
        "accept-ranges": "bytes",
    }
    headers.update(info.headers)
    for name, value in info.metadata.items():
        headers[f"{_META}{name}"] = _answered(value)
    if lookup.get("x-amz-checksum-mode", "").upper() == "ENABLED":
        headers.update(s3_checksums.response_headers(checksum))
    if info.parts:
        headers["x-amz-mp-parts-count"] = str(len(info.parts))
    for name, header in OVERRIDES.items():
        if name in query:
            headers[header] = query[name]
    return headers


def _answered(value: str) -> str:
    """A metadata value as it goes back out. It was kept as its bytes (decoded as Latin-1);
    UTF-8 text that Latin-1 can carry goes out as Latin-1, which is how HTTP clients read a
    header (``é`` stored from UTF-8 reads back as ``é``); anything else as its bytes."""
    try:
        text = value.encode("latin-1").decode()
        text.encode("latin-1")
    except UnicodeError:
        return value
    return text


def _epoch(value: str) -> float:
    return parsedate_to_datetime(value).timestamp()


def _etag_matches(condition: str, info: ObjectInfo) -> bool:
    wanted = {tag.strip().strip('"') for tag in condition.split(",")}
    return "*" in wanted or info.etag in wanted


def read_conditions(info: ObjectInfo, lookup: Mapping[str, str], prefix: str = "") -> int | None:
    """304 or 412 when a conditional header says so, as S3 evaluates them (If-Match wins over
    If-Unmodified-Since, If-None-Match over If-Modified-Since). ``prefix``
    ``x-amz-copy-source-`` reads a copy's conditions on its source, where 304 is 412 too."""
    if_match = lookup.get(f"{prefix}if-match")
    if_none_match = lookup.get(f"{prefix}if-none-match")
    if if_match is not None and not _etag_matches(if_match, info):
        return 412
    if if_none_match is not None and _etag_matches(if_none_match, info):
        return 304
    modified = int(info.last_modified)
    try:
        since = lookup.get(f"{prefix}if-unmodified-since")
        if since and if_match is None and modified > _epoch(since):
            return 412
        since = lookup.get(f"{prefix}if-modified-since")
        if since and if_none_match is None and modified <= _epoch(since):
            return 304
    except (TypeError, ValueError):
        pass  # S3 ignores a date it cannot read
    return None


def precondition_failed(condition: str = "If-Match") -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition,
    )
