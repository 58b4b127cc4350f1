"""Where skylet's errors become AWS error responses: one mapping per wire format.

- JSON, as Lambda's rest-json protocol answers (botocore reads the code from
  ``x-amzn-ErrorType``): :func:`json_error`.
- XML, as S3 answers (``<Error><Code>…``): :func:`xml_error`; an error of the tree that is not
  S3's own becomes the S3 error a client of S3 would see (:func:`as_s3_error`).
- A refused signature (``SignatureRefused``) in each family's codes: :data:`SIGNATURE_CODES`,
  read through :func:`signature_code` by every API (S3, Lambda, the admin API, and the
  services' codecs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Literal
from xml.sax.saxutils import escape

from skylet.errors import ApiError, S3Error, SignatureProblem, SignatureRefused

Headers = list[tuple[bytes, bytes]]

#: The families of AWS's authentication errors: S3's own; the JSON protocols' (json,
#: rest-json, CBOR: Lambda, DynamoDB, SQS…); the XML ones' (query, and rest-xml but S3: STS,
#: SNS, IAM…).
Family = Literal["s3", "json", "query"]

_MISSING_JSON = ("MissingAuthenticationTokenException", 403, "Missing Authentication Token")
_INCOMPLETE_JSON = ("IncompleteSignatureException", 400, None)
_INVALID_JSON = ("InvalidSignatureException", 403, None)
_INCOMPLETE_QUERY = ("IncompleteSignature", 400, None)
_MISMATCH_QUERY = ("SignatureDoesNotMatch", 403, None)
_TOKEN = "The security token included in the request is invalid."

#: Each signature problem's code, status and (when the family words it otherwise) message.
#: S3's codes depend on how the request was signed: ``header``, ``query`` (presigned v4) and
#: ``v2`` (presigned v2) each have their own for a malformed signature and a wrong region.
SIGNATURE_CODES: Mapping[SignatureProblem, Mapping[str, tuple[str, int, str | None]]] = {
    "missing": {
        "s3": ("AccessDenied", 403, "Access Denied"),
        "json": _MISSING_JSON,
        "query": ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
    },
    "algorithm": {
        "s3": ("InvalidArgument", 400, None),
        "s3:query": ("AuthorizationQueryParametersError", 400, None),
        "json": _INCOMPLETE_JSON,
        "query": _INCOMPLETE_QUERY,
    },
    "malformed": {
        "s3": ("AuthorizationHeaderMalformed", 400, None),
        "s3:query": ("AuthorizationQueryParametersError", 400, None),
        "s3:v2": ("AccessDenied", 403, None),
        "json": _INCOMPLETE_JSON,
        "query": _INCOMPLETE_QUERY,
    },
    "date": {
        "s3": ("AccessDenied", 403, None),
        "json": _INCOMPLETE_JSON,
        "query": _INCOMPLETE_QUERY,
    },
    "unknown_key": {
        "s3": ("InvalidAccessKeyId", 403, None),
        "json": ("UnrecognizedClientException", 403, _TOKEN),
        "query": ("InvalidClientTokenId", 403, _TOKEN),
    },
    "token": {
        "s3": ("InvalidToken", 400, "The provided token is malformed or otherwise invalid."),
        "json": ("UnrecognizedClientException", 403, _TOKEN),
        "query": ("InvalidClientTokenId", 403, _TOKEN),
    },
    "region": {
        "s3": ("AuthorizationHeaderMalformed", 400, None),
        "s3:query": ("AuthorizationQueryParametersError", 400, None),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
    "service": {
        "s3": ("AuthorizationHeaderMalformed", 400, None),
        "s3:query": ("AuthorizationQueryParametersError", 400, None),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
    "skewed": {
        "s3": (
            "RequestTimeTooSkewed",
            403,
            "The difference between the request time and the current time is too large.",
        ),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
    "expired": {"s3": ("AccessDenied", 403, None), "json": _INVALID_JSON, "query": _MISMATCH_QUERY},
    "mismatch": {
        "s3": ("SignatureDoesNotMatch", 403, None),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
    "unsigned_header": {
        "s3": ("AccessDenied", 403, None),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
    "absent_header": {
        "s3": ("AccessDenied", 403, None),
        "json": _INVALID_JSON,
        "query": _MISMATCH_QUERY,
    },
}


def signature_code(error: SignatureRefused, family: Family) -> tuple[str, int, str]:
    """The code, status and message a client of ``family`` reads for a refused signature."""
    codes = SIGNATURE_CODES[error.kind]
    code, status, message = codes.get(f"{family}:{error.form}") or codes[family]
    return code, status, message or error.message


def json_error(error: ApiError, request_id: str) -> tuple[int, bytes, Headers]:
    """Status, body and headers as Lambda sends them."""
    code, status, message = error.code, error.status, error.message
    if isinstance(error, SignatureRefused):
        code, status, message = signature_code(error, "json")
    body: dict[str, str] = {"Type": error.error_type} if error.error_type else {}
    body["message"] = message
    if error.reason:
        body["Reason"] = error.reason
    headers = [
        (b"content-type", b"application/json"),
        (b"x-amzn-errortype", code.encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return status, json.dumps(body).encode(), headers


def as_s3_error(error: ApiError) -> S3Error:
    """The S3 error for any refused request: S3's own as it is; a refused signature in S3's
    codes, with its fields; any other (the durable store could not take the notifications,
    say) as S3's ServiceUnavailable with its status."""
    if isinstance(error, S3Error):
        return error
    if isinstance(error, SignatureRefused):
        code, status, message = signature_code(error, "s3")
        return S3Error(code, message, status, **error.fields)
    return S3Error("ServiceUnavailable", error.message, error.status)


def internal_s3_error(detail: object) -> S3Error:
    """S3's 500, for a failure that is the platform's (the disk), not the client's."""
    return S3Error("InternalError", f"We encountered an internal error: {detail}", 500)


def xml_error(error: S3Error, resource: str, request_id: str) -> bytes:
    """S3's error document."""
    fields = "".join(_element(k, v) for k, v in error.fields.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error>'
        f"{_element('Code', error.code)}{_element('Message', error.message)}{fields}"
        f"{_element('Resource', resource)}{_element('RequestId', request_id)}</Error>"
    ).encode()


def _element(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"
