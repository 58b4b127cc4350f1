"""Where skylet's errors become AWS error responses: one mapping per wire format.

- JSON, as Lambda's rest-json protocol answers (botocore reads the code from
  ``x-amzn-ErrorType``): :func:`json_error`.
- XML, as S3 answers (``<Error><Code>…``): :func:`xml_error`; an error of the tree that is not
  S3's own becomes the S3 error a client of S3 would see (:func:`as_s3_error`).
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

from skylet.errors import ApiError, S3Error

Headers = list[tuple[bytes, bytes]]


def json_error(error: ApiError, request_id: str) -> tuple[int, bytes, Headers]:
    """Status, body and headers as Lambda sends them."""
    body: dict[str, str] = {"Type": error.error_type} if error.error_type else {}
    body["message"] = error.message
    if error.reason:
        body["Reason"] = error.reason
    headers = [
        (b"content-type", b"application/json"),
        (b"x-amzn-errortype", error.code.encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return error.status, json.dumps(body).encode(), headers


def as_s3_error(error: ApiError) -> S3Error:
    """The S3 error for any refused request: S3's own as it is; any other (the durable store
    could not take the notifications, say) as S3's ServiceUnavailable with its status."""
    if isinstance(error, S3Error):
        return error
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
