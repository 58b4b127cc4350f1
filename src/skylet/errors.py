"""The one error tree of skylet.

Every error a user can trigger is a ``SkyletError``. Driver errors (sqlite3, psycopg, OS errors)
are translated at the boundary that meets them and re-raised with ``from``. The gateway maps the
tree to HTTP statuses and error bodies in one place per wire format: AWS's JSON and XML error
documents (``aws/errors.py``) and API Gateway's own answers (``gateway/apigw.py``).

    SkyletError
    ├── ConfigError                 bad manifest or settings (file, line, key, value, allowed)
    │   └── ListenError                 the address cannot be listened on (port in use, not ours)
    ├── DependencyInstallError      a function's requirements.txt could not be installed
    ├── ApiError                    an API request that is refused; carries the AWS error code
    │   ├── ResourceNotFound            404 ResourceNotFoundException
    │   │   ├── QueueNotFound               no queue of that name in the store
    │   │   └── LogNotFound                 no log of that name in the store
    │   ├── InvalidRequestContent       400 InvalidRequestContentException
    │   ├── ValidationError             400 ValidationException (a parameter breaks its model)
    │   ├── AccessDenied                403 AccessDeniedException
    │   ├── ResourceConflict            409 ResourceConflictException
    │   ├── PreconditionFailed          412 PreconditionFailedException (a stale RevisionId)
    │   ├── NotImplementedOperation     501 an AWS operation skylet does not serve
    │   ├── InvalidParameterValue       400 InvalidParameterValueException
    │   │   ├── StoreConflict               a queue/log exists with other attributes
    │   │   └── InvalidReceipt              a receipt handle that is not one skylet made
    │   │   └── RouteNotFound               no HTTP route takes the request (API Gateway: 403/404)
    │   ├── RequestTooLarge             413 RequestEntityTooLargeException
    │   ├── TooManyRequests             429 TooManyRequestsException (with a Reason)
    │   ├── ServiceUnavailable          503 ServiceException
    │   ├── IntegrationFailed           API Gateway: the function failed or answered what it
    │   │                               cannot send (REST 502, HTTP API 500)
    │   ├── IntegrationTimeout          API Gateway stopped waiting (REST 504, HTTP API 503)
    │   ├── S3Error                     S3's code and status, with the fields of its XML body
    │   ├── SignatureRefused            SigV4 refused a request (``kind``); each API's door writes
    │   │                               it in its protocol's codes (aws/errors.py)
    │   └── ServiceError                a cloud service's error: code, message, status, fault;
    │                                   the protocol codecs write it (aws/protocols)
    └── PlatformError               skylet itself failed (a zygote died, a store is down)
        └── StoreError                  the durable store failed (bad file, newer schema)
            └── StoreUnavailable            the store's database cannot be reached; retry later
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal


class SkyletError(Exception):
    """Root of every error skylet raises on purpose."""


class ConfigError(SkyletError):
    """A manifest or setting is invalid; the message names file, line, key, value and choices."""


class ListenError(ConfigError):
    """The server cannot listen on its address: the port is in use, or the host is not ours."""


class DependencyInstallError(SkyletError):
    """pip could not install a function's requirements.txt."""


class PlatformError(SkyletError):
    """skylet's own machinery failed; not the caller's fault."""


class ApiError(SkyletError):
    """A refused API request. ``code`` is the AWS error code, ``status`` the HTTP status."""

    code = "ServiceException"
    status = 500
    error_type = "Service"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class ResourceNotFound(ApiError):
    code = "ResourceNotFoundException"
    status = 404
    error_type = "User"


class InvalidRequestContent(ApiError):
    code = "InvalidRequestContentException"
    status = 400
    error_type = "User"


class ValidationError(ApiError):
    """A parameter that breaks its API model's constraint; AWS's body carries no Type."""

    code = "ValidationException"
    status = 400
    error_type = ""


class AccessDenied(ApiError):
    code = "AccessDeniedException"
    status = 403
    error_type = "User"


class ResourceConflict(ApiError):
    code = "ResourceConflictException"
    status = 409
    error_type = "User"


class PreconditionFailed(ApiError):
    code = "PreconditionFailedException"
    status = 412
    error_type = "User"


class NotImplementedOperation(ApiError):
    code = "NotImplementedException"
    status = 501
    error_type = "Service"


class InvalidParameterValue(ApiError):
    code = "InvalidParameterValueException"
    status = 400
    error_type = "User"


class RequestTooLarge(ApiError):
    code = "RequestEntityTooLargeException"
    status = 413
    error_type = "User"


class TooManyRequests(ApiError):
    code = "TooManyRequestsException"
    status = 429
    error_type = "User"


class ServiceUnavailable(ApiError):
    code = "ServiceException"
    status = 503
    error_type = "Service"


class RouteNotFound(ResourceNotFound):
    """No HTTP route takes the request."""


class IntegrationFailed(ApiError):
    """Behind an API Gateway route: the function failed, or its result is not a response API
    Gateway can send."""

    code = "InternalServerErrorException"
    status = 502


class IntegrationTimeout(ApiError):
    """Behind an API Gateway route: the function ran past the integration's timeout (or its
    own)."""

    code = "IntegrationTimeout"
    status = 504


class S3Error(ApiError):
    """An error S3 answers with ``code`` and ``status``; ``fields`` go into its XML body (the
    blob stores raise it, so the S3 API answers as S3 does and the SDK raises the same)."""

    def __init__(self, code: str, message: str, status: int, **fields: str) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.fields = fields


#: Why a signature was refused; aws/errors.py names the code of each in every protocol family.
SignatureProblem = Literal[
    "missing",  # unsigned, where credentials are required
    "algorithm",  # not AWS4-HMAC-SHA256
    "malformed",  # the Authorization header or the presigned parameters are incomplete
    "date",  # X-Amz-Date is not a date
    "unknown_key",  # an access key nobody configured
    "token",  # a session token that is none of the functions' (skylet.function_keys)
    "region",  # the credential scope names another region than the one served
    "service",  # the credential scope names another service than the one serving it
    "skewed",  # the request's date is too far from the server's clock
    "expired",  # a presigned URL past its expiry (or with an expiry out of range)
    "mismatch",  # the signature is not the one the request's content gives
    "unsigned_header",  # an x-amz-* header that the signature does not cover
    "absent_header",  # a header the signature names is not in the request
]


class SignatureRefused(ApiError):
    """A request whose SigV4 (or S3's SigV2) signature is refused. ``kind`` says why, in no
    protocol's words: each API writes it with its own code (aws/errors.py). ``form`` is how the
    request was signed: ``header`` (Authorization), ``query`` (presigned v4) or ``v2`` (S3's
    presigned v2); ``fields`` go into S3's XML error (StringToSign, HeadersNotSigned, …)."""

    code = "InvalidSignatureException"
    status = 403
    error_type = "User"

    def __init__(
        self,
        kind: SignatureProblem,
        message: str,
        *,
        form: Literal["header", "query", "v2"] = "header",
        **fields: str,
    ) -> None:
        super().__init__(message)
        self.kind: SignatureProblem = kind
        self.form = form
        self.fields = fields


class ServiceError(ApiError):
    """An error of a cloud service served through the protocol codecs (``skylet.aws.service``),
    written in the request's protocol. ``code`` is the error shape's name in the service's
    model (``QueueDoesNotExist``); ``status`` and ``sender_fault``, when None, come from that
    shape (else 400 and True). ``query_code`` is the code a query protocol client reads
    (``AWS.SimpleQueueService.NonExistentQueue``) when the model does not say it; ``fields``
    are the error shape's other members."""

    status = 400
    error_type = "User"

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        sender_fault: bool | None = None,
        query_code: str | None = None,
        fields: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.given_status = status
        if status is not None:
            self.status = status
        self.sender_fault = sender_fault
        self.query_code = query_code
        self.fields: Mapping[str, object] = fields or {}


# --- durable store (skylet.store) -------------------------------------------------------------


class StoreError(PlatformError):
    """The durable store failed: a corrupt file, a failed migration, a newer schema."""


class StoreUnavailable(StoreError):
    """The store's database cannot be reached now (down, restarting); it reconnects itself."""


class QueueNotFound(ResourceNotFound):
    """No queue of that name exists in the store."""


class LogNotFound(ResourceNotFound):
    """No log of that name exists in the store."""


class StoreConflict(InvalidParameterValue):
    """A queue or log of that name exists with different attributes."""


class InvalidReceipt(InvalidParameterValue):
    """A receipt handle that the store never issued (malformed)."""
