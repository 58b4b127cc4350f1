"""AWS Signature Version 4, verified for every service skylet serves (and S3's presigned
Signature Version 2, in ``sigv2``): header authentication and presigned URLs. Pure.

One verifier, for S3 and for every other service, with the differences SigV4 has between
them (botocore's ``S3SigV4Auth`` and ``SigV4Auth``):

- the canonical path: S3's as sent; any other service's with dot segments and empty segments
  removed, then encoded again (``%3A`` becomes ``%253A``);
- the payload line: S3's is ``x-amz-content-sha256`` (a hash, UNSIGNED-PAYLOAD or a
  STREAMING-… marker); any other service's is the body's SHA-256, always (the caller hashes
  the body it read);
- the region: S3 accepts the one served or ``us-east-1`` (its global endpoint's, which SDKs
  sign ListBuckets with); any other service only the one served.

Either way the credential scope must name the service that serves the request and the region
it serves, the date must be within 15 minutes of the server's clock, and every ``x-amz-*``
header but ``x-amz-content-sha256`` (and ``x-amz-user-agent``, which names the client, not the
operation) must be signed. A refusal is a :class:`SignatureRefused` whose ``kind`` says why;
each API writes it in its own protocol (aws/errors.py). Hand-written because it is the
product's contract; the signing key is derived once a day per key, region and service.
:func:`presign` and :func:`sign_headers` make S3 requests with the same code.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

from botocore.utils import normalize_url_path

from skylet.errors import SignatureRefused

#: How a request carries its signature: the Authorization header, a presigned v4 URL, or
#: S3's presigned v2 URL.
Form = Literal["header", "query", "v2"]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGN_S = 7 * 24 * 3600
#: How far a signed request's clock may be from ours, as AWS allows.
MAX_SKEW_S = 15 * 60
#: The ``x-amz-*`` headers a request may carry without signing them: the payload's hash (which
#: the canonical request's last line covers anyway) and the SDK's name for itself.
UNSIGNED_AMZ_HEADERS = frozenset({"x-amz-content-sha256", "x-amz-user-agent"})
#: The region S3's global endpoint signs for: SDKs sign ListBuckets (and any request of a
#: client made without a region) with it, whatever region the buckets are in.
S3_GLOBAL_REGION = "us-east-1"
_AMZ_DATE = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", re.ASCII)


@dataclass(frozen=True, slots=True)
class Credentials:
    """Access key id → secret key; ``region`` is the one skylet serves (and signs for).
    ``stand_in`` (local mode: no credentials configured, the local pair's key): a key that is
    not in ``keys`` is accepted as LocalStack accepts it, every check made but the
    signature's, which cannot be computed without its secret, and acts as ``stand_in`` (the
    account's root: one owner of every bucket, as one account's keys are on LocalStack);
    ``Verified.trusted`` is False. Empty: such a key is refused."""

    keys: Mapping[str, str]
    region: str = "us-east-1"
    stand_in: str = ""


@dataclass(frozen=True, slots=True)
class Verified:
    access_key: str
    #: The payload hash the signature covers: a hex SHA-256 the body must match, or a marker
    #: (UNSIGNED-PAYLOAD, STREAMING-…).
    payload_hash: str
    #: What a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body's chunk signatures chain from: the
    #: request's own signature (the seed), its date, scope and signing key (header auth only).
    seed: str = ""
    amz_date: str = ""
    scope: str = ""
    key: bytes = b""
    #: The function whose own credentials signed (skylet.function_keys), set by the
    #: authenticator; None: a key of the platform's.
    function: str | None = None
    #: False: signed with a key whose secret skylet does not know (local mode, any key), so
    #: the signature (and a streaming body's chunk signatures) could not be checked.
    trusted: bool = True


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_query(raw_query: str, *, drop: str | None = None) -> str:
    """The query string, each name and value decoded then strictly re-encoded, sorted."""
    pairs = []
    for part in raw_query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        name, value = unquote(name.replace("+", "%20")), unquote(value.replace("+", "%20"))
        if name == drop:
            continue
        pairs.append((_uri_encode(name), _uri_encode(value)))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


def canonical_path(raw_path: str, service: str) -> str:
    """The canonical request's path: S3's as sent (already percent-encoded once); any other
    service's normalised and encoded a second time, as botocore's ``SigV4Auth`` signs it."""
    if service == "s3":
        return raw_path or "/"
    return quote(normalize_url_path(raw_path), safe="/~")


def canonical_request(
    method: str,
    path: str,
    query: str,
    headers: Sequence[tuple[str, str]],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request; ``path`` already canonical (:func:`canonical_path`)."""
    values: dict[str, list[str]] = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(" ".join(value.split()))
    lines = []
    for name in signed_headers:
        if name not in values:
            raise SignatureRefused(
                "absent_header", f"There were headers present in the request which were not "
                f"signed, or a signed header is missing: {name}"
            )  # fmt: skip
        lines.append(f"{name}:{','.join(values[name])}\n")
    return "\n".join(
        [method, path or "/", query, "".join(lines), ";".join(signed_headers), payload_hash]
    )


def check_amz_headers_signed(
    headers: Sequence[tuple[str, str]], signed: Sequence[str], form: Form = "header"
) -> None:
    """Every ``x-amz-*`` header must be signed (header authentication and presigned URLs
    alike): else whoever holds a URL or replays a request could add one that changes the
    operation (``x-amz-copy-source`` turns an upload into a copy; ``X-Amz-Target`` picks
    another operation; ``X-Amz-Invocation-Type`` queues an invocation)."""
    covered = set(signed) | UNSIGNED_AMZ_HEADERS
    unsigned = sorted({n.lower() for n, _ in headers if n.lower().startswith("x-amz-")} - covered)
    if unsigned:
        raise SignatureRefused(
            "unsigned_header",
            "There were headers present in the request which were not signed",
            form=form,
            HeadersNotSigned=", ".join(unsigned),
        )


@functools.lru_cache(maxsize=256)
def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    """The derived key of a day, region and service (four HMACs, computed once a day each)."""
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def wire_bytes(text: str) -> bytes:
    """The bytes a canonical request stands for. Header values arrive as bytes and are decoded
    as Latin-1, so Latin-1 gives back exactly the bytes the client sent and signed (its
    UTF-8, say); text beyond Latin-1 (a signer's own str) is UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(wire_bytes(canonical)).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signature(secret: str, amz_date: str, scope: str, canonical: str) -> str:
    date, region, service = scope.split("/")[:3]
    return _sign(signing_key(secret, date, region, service), amz_date, scope, canonical)


def _sign(key: bytes, amz_date: str, scope: str, canonical: str) -> str:
    return hmac.new(
        key, string_to_sign(amz_date, scope, canonical).encode(), hashlib.sha256
    ).hexdigest()


def _fields(text: str) -> dict[str, str]:
    fields = {}
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


def secret_of(credentials: Credentials, access_key: str, form: Form) -> str | None:
    """The secret of ``access_key``; None for a key accepted unverified (``stand_in``)."""
    secret = credentials.keys.get(access_key)
    if secret is None and not credentials.stand_in:
        raise SignatureRefused(
            "unknown_key",
            "The AWS Access Key Id you provided does not exist in our records.",
            form=form,
            AWSAccessKeyId=access_key,
        )
    return secret


def _scope(
    credential: str, credentials: Credentials, service: str, where: Form, any_region: bool
) -> tuple[str, str]:
    """(access key, scope) from ``AKID/20130524/us-east-1/s3/aws4_request``, checked against
    the service that serves the request and the region it serves (unless ``any_region``)."""
    access_key, _, scope = credential.partition("/")
    parts = scope.split("/")
    if len(parts) != 4 or parts[3] != "aws4_request" or not access_key:
        raise SignatureRefused(
            "malformed",
            f"The authorization {where} is malformed; the Credential is mal-formed: {credential}",
            form=where,
        )
    region, named = parts[1], parts[2]
    if named != service:
        raise SignatureRefused(
            "service",
            f"Credential should be scoped to correct service: '{service}' (the credential "
            f"names '{named}')",
            form=where,
        )
    if (
        region != credentials.region
        and not any_region
        and not (service == "s3" and region == S3_GLOBAL_REGION)
    ):
        raise SignatureRefused(
            "region",
            f"Credential should be scoped to a valid region: the region '{region}' is wrong; "
            f"expecting '{credentials.region}'",
            form=where,
            Region=credentials.region,
        )
    return access_key, scope


def mismatch(access_key: str, to_sign: str, form: Form) -> SignatureRefused:
    return SignatureRefused(
        "mismatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        form=form,
        AWSAccessKeyId=access_key,
        StringToSign=to_sign,
    )


def _parse_amz_date(amz_date: str, form: Form) -> float:
    when = _epoch(amz_date)
    if when is None:
        raise SignatureRefused("date", f"Invalid X-Amz-Date: {amz_date!r}", form=form)
    return when


@functools.lru_cache(maxsize=64)
def _epoch(amz_date: str) -> float | None:
    """``20130524T000000Z`` in epoch seconds, None when it is no such date. Kept for the
    requests of the same second (``time.strptime`` took 10 µs of a 30 µs verification)."""
    found = _AMZ_DATE.fullmatch(amz_date)
    if found is None:
        return None
    try:
        year, month, day, hour, minute, second = map(int, found.groups())
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:  # a 31st of April, an hour 24
        return None
    return moment.timestamp()


def _require_hash(service: str, payload_hash: str | None) -> None:
    """A service other than S3 is verified with its body's hash: the caller's mistake, not the
    client's, if it is not given (nothing of the body would be signed)."""
    if service != "s3" and payload_hash is None:
        raise ValueError(f"{service} requests are verified with the body's payload_hash")


def _stamp(epoch: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch))


def verify_header(
    credentials: Credentials,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    *,
    service: str = "s3",
    payload_hash: str | None = None,
    any_region: bool = False,
    now: float | None = None,
) -> Verified:
    """Check an ``Authorization: AWS4-HMAC-SHA256 …`` request served by ``service``.
    ``payload_hash``: the body's hex SHA-256, which a service other than S3 must pass (its
    payload is always signed); S3's comes from ``x-amz-content-sha256``."""
    _require_hash(service, payload_hash)
    lookup = {k.lower(): v for k, v in headers}
    authorization = lookup.get("authorization", "")
    if not authorization.startswith(ALGORITHM + " "):
        raise SignatureRefused(
            "algorithm", "Only AWS4-HMAC-SHA256 (Signature Version 4) is supported"
        )
    fields = _fields(authorization[len(ALGORITHM) + 1 :])
    try:
        credential, signed, provided = (
            fields["Credential"],
            fields["SignedHeaders"],
            fields["Signature"],
        )
    except KeyError as error:
        raise SignatureRefused(
            "malformed",
            f"The authorization header is malformed; missing {error.args[0]}",
        ) from None
    access_key, scope = _scope(credential, credentials, service, "header", any_region)
    secret = secret_of(credentials, access_key, "header")
    amz_date = lookup.get("x-amz-date") or ""
    when = _parse_amz_date(amz_date, "header")
    clock = time.time() if now is None else now
    if abs(clock - when) > MAX_SKEW_S:
        limit = clock - MAX_SKEW_S if when < clock else clock + MAX_SKEW_S
        raise SignatureRefused(
            "skewed",
            f"Signature expired: {amz_date} is now earlier than {_stamp(limit)} "
            f"({_stamp(clock)} - 15 min.)"
            if when < clock
            else f"Signature not yet current: {amz_date} is still later than {_stamp(limit)} "
            f"({_stamp(clock)} + 15 min.)",
            RequestTime=amz_date,
            ServerTime=_stamp(clock),
            MaxAllowedSkewMilliseconds=str(MAX_SKEW_S * 1000),
        )
    if payload_hash is None:
        payload_hash = lookup.get("x-amz-content-sha256", EMPTY_SHA256)
    names = signed.split(";")
    if secret is None:  # local mode, a key of the client's own: all but the signature checked
        check_amz_headers_signed(headers, names)
        stand_in = credentials.stand_in
        return Verified(stand_in, payload_hash, provided, amz_date, scope, trusted=False)
    canonical = canonical_request(
        method,
        canonical_path(raw_path, service),
        canonical_query(raw_query),
        headers,
        names,
        payload_hash,
    )
    date, region, _ = scope.split("/")[:3]
    key = signing_key(secret, date, region, service)
    if not hmac.compare_digest(_sign(key, amz_date, scope, canonical), provided):
        raise mismatch(access_key, string_to_sign(amz_date, scope, canonical), "header")
    check_amz_headers_signed(headers, names)
    return Verified(access_key, payload_hash, provided, amz_date, scope, key)


def verify_presigned(
    credentials: Credentials,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Sequence[tuple[str, str]],
    *,
    service: str = "s3",
    payload_hash: str | None = None,
    any_region: bool = False,
    now: float | None = None,
) -> Verified:
    """Check a presigned URL (``X-Amz-Algorithm``, ``X-Amz-Credential``, … in the query).
    S3's payload is UNSIGNED-PAYLOAD; any other service's is the body's hash
    (``payload_hash``), as botocore's ``SigV4QueryAuth`` signs it."""
    _require_hash(service, payload_hash)
    params = {}
    for part in raw_query.split("&"):
        name, _, value = part.partition("=")
        params[unquote(name)] = unquote(value)
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureRefused(
            "algorithm", "X-Amz-Algorithm must be AWS4-HMAC-SHA256", form="query"
        )
    try:
        credential = params["X-Amz-Credential"]
        amz_date = params["X-Amz-Date"]
        expires = int(params["X-Amz-Expires"])
        signed = params["X-Amz-SignedHeaders"]
        provided = params["X-Amz-Signature"]
    except (KeyError, ValueError) as error:
        raise SignatureRefused(
            "malformed", f"Query-string authentication requires {error}", form="query"
        ) from None
    if not 1 <= expires <= MAX_PRESIGN_S:  # a URL that never was valid: denied, as on S3
        raise SignatureRefused(
            "expired", "X-Amz-Expires must be between 1 and 604800 seconds", form="query"
        )
    access_key, scope = _scope(credential, credentials, service, "query", any_region)
    secret = secret_of(credentials, access_key, "query")
    when = _parse_amz_date(amz_date, "query")
    if (time.time() if now is None else now) > when + expires:
        raise SignatureRefused("expired", "Request has expired", form="query", Expires=str(expires))
    if service == "s3" or payload_hash is None:  # None is S3's only (_require_hash)
        payload_hash = UNSIGNED
    names = signed.split(";")
    if secret is None:  # local mode, a key of the client's own: all but the signature checked
        check_amz_headers_signed(headers, names, "query")
        return Verified(credentials.stand_in, payload_hash, trusted=False)
    canonical = canonical_request(
        method,
        canonical_path(raw_path, service),
        canonical_query(raw_query, drop="X-Amz-Signature"),
        headers,
        names,
        payload_hash,
    )
    expected = signature(secret, amz_date, scope, canonical)
    if not hmac.compare_digest(expected, provided):
        raise mismatch(access_key, string_to_sign(amz_date, scope, canonical), "query")
    check_amz_headers_signed(headers, names, "query")
    return Verified(access_key, UNSIGNED if service == "s3" else payload_hash)


def presign(
    *,
    access_key: str,
    secret: str,
    region: str,
    method: str,
    host: str,
    raw_path: str,
    expires_s: int = 3600,
    now: float | None = None,
) -> str:
    """A presigned URL's path and query for ``method raw_path`` on ``host``."""
    stamp = time.gmtime(now if now is not None else time.time())
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", stamp)
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    query = canonical_query(
        "&".join(
            f"{_uri_encode(k)}={_uri_encode(v)}"
            for k, v in (
                ("X-Amz-Algorithm", ALGORITHM),
                ("X-Amz-Credential", f"{access_key}/{scope}"),
                ("X-Amz-Date", amz_date),
                ("X-Amz-Expires", str(expires_s)),
                ("X-Amz-SignedHeaders", "host"),
            )
        )
    )
    canonical = canonical_request(
        method, canonical_path(raw_path, "s3"), query, [("host", host)], ["host"], UNSIGNED
    )
    return f"{raw_path}?{query}&X-Amz-Signature={signature(secret, amz_date, scope, canonical)}"


def sign_headers(
    *,
    access_key: str,
    secret: str,
    region: str,
    method: str,
    host: str,
    raw_path: str,
    raw_query: str = "",
    payload: bytes | None = b"",
    headers: Sequence[tuple[str, str]] = (),
    now: float | None = None,
) -> list[tuple[str, str]]:
    """The headers that sign a request with SigV4 (``Authorization`` and what it covers).
    ``payload=None``: a streamed body, signed as UNSIGNED-PAYLOAD."""
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now if now is not None else time.time()))
    scope = f"{amz_date[:8]}/{region}/s3/aws4_request"
    payload_hash = UNSIGNED if payload is None else hashlib.sha256(payload).hexdigest()
    signed = [
        ("host", host),
        ("x-amz-content-sha256", payload_hash),
        ("x-amz-date", amz_date),
        *((k.lower(), v) for k, v in headers),
    ]
    names = sorted({k for k, _ in signed})
    canonical = canonical_request(
        method,
        canonical_path(raw_path, "s3"),
        canonical_query(raw_query),
        signed,
        names,
        payload_hash,
    )
    authorization = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature(secret, amz_date, scope, canonical)}"
    )
    return [*signed[1:], ("authorization", authorization)]


def scope_service(headers: Sequence[tuple[str, str]], raw_query: str) -> str | None:
    """The service a request's SigV4 credential scope names (``s3``, ``lambda``, …), if any."""
    for name, value in headers:
        if name.lower() == "authorization" and "Credential=" in value:
            credential = value.split("Credential=", 1)[1].split(",", 1)[0]
            parts = credential.split("/")
            return parts[3] if len(parts) >= 5 else None
    if "AWSAccessKeyId=" in raw_query and "Signature=" in raw_query:
        return "s3"  # Signature Version 2 exists only for S3
    if "X-Amz-Credential=" in raw_query:
        credential = unquote(raw_query.split("X-Amz-Credential=", 1)[1].split("&", 1)[0])
        parts = credential.split("/")
        return parts[3] if len(parts) >= 5 else None
    return None
