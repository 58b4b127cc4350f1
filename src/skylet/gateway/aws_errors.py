"""The one place where skylet's errors become AWS error responses (Lambda's rest-json style)."""

from __future__ import annotations

import json

from skylet.errors import ApiError


def lambda_error_response(
    error: ApiError, request_id: str
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """Status, body and headers as Lambda sends them; botocore reads the code from the header."""
    body: dict[str, str] = {"Type": error.error_type, "message": error.message}
    if error.reason:
        body["Reason"] = error.reason
    headers = [
        (b"content-type", b"application/json"),
        (b"x-amzn-errortype", error.code.encode()),
        (b"x-amzn-requestid", request_id.encode()),
    ]
    return error.status, json.dumps(body).encode(), headers
