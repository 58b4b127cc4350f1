"""Which query parameters an S3 request carries that mean something: S3's subresources (each
selects an operation), the parameters of its operations, and the ones that only sign a request;
a SigV2 presigned URL's signed headers, carried in its query. Pure."""

from __future__ import annotations

from urllib.parse import parse_qsl

from skylet.aws import s3_objects


def operation_query(
    raw_query: str, headers: list[tuple[str, str]], lookup: dict[str, str]
) -> dict[str, str]:
    """The request's query as its operation reads it: without the parameters that sign it, and
    without those S3 does not know (a cache buster, ``?v=2``), which S3 ignores. A SigV2 URL's
    hoisted headers are moved into ``headers`` and ``lookup``."""
    query = {k: v for k, v in parse_qsl(raw_query, keep_blank_values=True) if k not in AUTH_PARAMS}
    if "AWSAccessKeyId=" in raw_query:
        _hoisted_headers(query, headers, lookup)
    return {k: v for k, v in query.items() if k in S3_PARAMS}


GET_PARAMS = set(s3_objects.OVERRIDES) | {"partNumber", "versionId"}
#: S3's subresources: each selects an operation (skylet answers 501 for those it does not
#: implement)...
SUBRESOURCES = frozenset(
    {
        *("accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption"),
        *("intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging"),
        *("metrics", "notification", "object-lock", "ownershipControls", "policy"),
        *("policyStatus", "publicAccessBlock", "replication", "requestPayment", "restore"),
        *("retention", "select", "tagging", "torrent", "uploadId", "uploads", "versioning"),
        *("versions", "website"),
    }
)
#: ...and with the parameters of the operations, every query parameter S3 knows. S3 ignores any
#: other (a cache buster, ``?v=2``), and so does skylet.
S3_PARAMS = SUBRESOURCES | {
    *s3_objects.OVERRIDES,
    *("partNumber", "versionId", "max-buckets"),
    *("continuation-token", "delimiter", "encoding-type", "fetch-owner", "id", "key-marker"),
    *("list-type", "marker", "max-keys", "max-parts", "max-uploads", "part-number-marker"),
    *("prefix", "select-type", "start-after", "upload-id-marker", "version-id-marker"),
}
#: Query parameters that sign a request (SigV4 and SigV2 presigned URLs): set aside before a
#: SigV2 URL's signed headers are read from the query (``X-Amz-Signature`` is not a header).
#: Like botocore's operation marker ``x-id``, they select no operation: only S3_PARAMS do.
AUTH_PARAMS = frozenset(
    {
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
        "AWSAccessKeyId",
        "Signature",
        "Expires",
    }
)


def _hoisted_headers(
    query: dict[str, str], headers: list[tuple[str, str]], lookup: dict[str, str]
) -> None:
    """A SigV2 presigned URL carries the headers it signed as query parameters (botocore puts
    Content-Type, Content-MD5 and every x-amz-* header there, so whoever uses the URL need not
    send them): they count as the request's headers, unless it sent its own, and select no
    operation."""
    for name in list(query):
        lower = name.lower()
        if lower in ("content-type", "content-md5") or lower.startswith("x-amz-"):
            value = query.pop(name)
            if lower not in lookup:
                lookup[lower] = value
                headers.append((lower, value))
