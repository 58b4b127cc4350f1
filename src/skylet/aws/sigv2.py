"""S3's presigned URLs of Signature Version 2 (``AWSAccessKeyId``, ``Expires``, ``Signature``):
what boto3's ``generate_presigned_url`` makes for S3 unless told to use s3v4. S3 is the only
service that still takes them. Pure; refusals are ``sigv4``'s ``SignatureRefused`` kinds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence
from urllib.parse import unquote

from skylet.aws.sigv4 import UNSIGNED, Credentials, Verified, mismatch, secret_of, wire_bytes
from skylet.errors import SignatureRefused

_V2_SUBRESOURCES = frozenset(
    {"acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
     "policy", "requestPayment", "response-cache-control", "response-content-disposition",
     "response-content-encoding", "response-content-language", "response-content-type",
     "response-expires", "restore", "tagging", "torrent", "uploadId", "uploads", "versionId",
     "versioning", "versions", "website"}
)  # fmt: skip


def verify_presigned_v2(
    credentials: Credentials,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    *,
    now: float | None = None,
) -> Verified:
    """Check a Signature Version 2 presigned URL (``AWSAccessKeyId``, ``Expires``,
    ``Signature``): what boto3's ``generate_presigned_url`` makes unless told to use s3v4."""
    params: dict[str, str] = {}
    for part in raw_query.split("&"):
        name, sep, value = part.partition("=")
        params[unquote(name)] = unquote(value) if sep else ""
    try:
        access_key, expires, provided = (
            params["AWSAccessKeyId"],
            int(params["Expires"]),
            params["Signature"],
        )
    except (KeyError, ValueError):
        raise SignatureRefused(
            "malformed", "Query-string authentication requires AWSAccessKeyId, Expires and "
            "Signature", form="v2"
        ) from None  # fmt: skip
    secret = secret_of(credentials, access_key, "v2")
    if (time.time() if now is None else now) > expires:
        raise SignatureRefused("expired", "Request has expired", form="v2", Expires=str(expires))
    if secret is None:  # local mode, a key of the client's own (sigv4.Credentials.stand_in)
        return Verified(credentials.stand_in, UNSIGNED, trusted=False)
    lookup: dict[str, str] = {}
    for name, value in headers:
        lookup.setdefault(name.lower(), value.strip())
    # A presigned URL's x-amz-* parameters are signed as headers (botocore's HmacV1QueryAuth
    # moves them there: a session token's x-amz-security-token).
    for name, value in params.items():
        if name.lower().startswith("x-amz-"):
            lookup.setdefault(name.lower(), value.strip())
    amz = "".join(f"{k}:{lookup[k]}\n" for k in sorted(lookup) if k.startswith("x-amz-"))
    subresources = sorted((k, v) for k, v in params.items() if k in _V2_SUBRESOURCES)
    query = ""
    if subresources:
        query = "?" + "&".join(f"{k}={v}" if v else k for k, v in subresources)
    head = (
        f"{method}\n{lookup.get('content-md5', '')}\n{lookup.get('content-type', '')}\n"
        f"{expires}\n{amz}"
    )
    # A bucket's resource is /bucket/, as botocore signs it (its URL says /bucket); a signer
    # that signed the path as sent is accepted too.
    paths = (
        [raw_path + "/", raw_path] if raw_path.count("/") == 1 and raw_path != "/" else [raw_path]
    )
    for path in paths:
        to_sign = f"{head}{path}{query}"
        expected = base64.b64encode(
            hmac.new(secret.encode(), wire_bytes(to_sign), hashlib.sha1).digest()
        ).decode()
        if hmac.compare_digest(expected, provided):
            return Verified(access_key, UNSIGNED)
    raise mismatch(access_key, f"{head}{paths[0]}{query}", "v2")
