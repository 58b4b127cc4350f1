"""The one error tree of skylet.

Every error a user can trigger is a ``SkyletError``. Driver errors (sqlite3, psycopg, OS errors)
are translated at the boundary that meets them and re-raised with ``from``. The gateway maps the
tree to HTTP statuses and AWS error bodies in exactly one place (``gateway/aws_errors.py``).

    SkyletError
    ├── ConfigError                 bad manifest or settings (file, line, key, value, allowed)
    ├── DependencyInstallError      a function's requirements.txt could not be installed
    ├── ApiError                    an API request that is refused; carries the AWS error code
    │   ├── ResourceNotFound            404 ResourceNotFoundException
    │   │   ├── QueueNotFound               no queue of that name in the store
    │   │   └── LogNotFound                 no log of that name in the store
    │   ├── InvalidRequestContent       400 InvalidRequestContentException
    │   ├── InvalidParameterValue       400 InvalidParameterValueException
    │   │   ├── StoreConflict               a queue/log exists with other attributes
    │   │   └── InvalidReceipt              a receipt handle that is not one skylet made
    │   ├── RequestTooLarge             413 RequestEntityTooLargeException
    │   ├── TooManyRequests             429 TooManyRequestsException (with a Reason)
    │   └── ServiceUnavailable          503 ServiceException
    └── PlatformError               skylet itself failed (a zygote died, a store is down)
        └── StoreError                  the durable store failed (bad file, newer schema)
            └── StoreUnavailable            the store's database cannot be reached; retry later
"""

from __future__ import annotations


class SkyletError(Exception):
    """Root of every error skylet raises on purpose."""


class ConfigError(SkyletError):
    """A manifest or setting is invalid; the message names file, line, key, value and choices."""


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
