"""HTTP triggers: API Gateway REST (v1, ``http``) and HTTP API (v2, ``http_api``) routes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from skylet.manifest.diagnostics import show
from skylet.manifest.fields import Frozen, Int

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_CORS_HEADERS = (
    "Content-Type",
    "X-Amz-Date",
    "Authorization",
    "X-Api-Key",
    "X-Amz-Security-Token",
    "X-Amz-User-Agent",
    "X-Amzn-Trace-Id",
)
_PATH_PART = re.compile(r"^(?:[A-Za-z0-9._~:@!$&'()*+,;=-]+|\{[A-Za-z0-9_.-]+\+?\})$")


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _route_path(value: str) -> str:
    """``hello/{id}`` -> ``/hello/{id}``; ``{proxy+}`` only last; no empty segments."""
    path = "/" + value.strip().strip("/")
    parts = path.split("/")[1:] if path != "/" else []
    for index, part in enumerate(parts):
        if not _PATH_PART.match(part):
            raise ValueError(
                f"{show(value)} is not a valid route path: segment {part!r} "
                "(allowed: /literal/{param}/{proxy+})"
            )
        if part.endswith("+}") and index != len(parts) - 1:
            raise ValueError(f"{show(value)}: a greedy {part} must be the last path segment")
    return path


class CorsConfig(Frozen):
    """CORS for an http route; ``cors: true`` means every default here."""

    origins: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = DEFAULT_CORS_HEADERS
    methods: tuple[str, ...] = ()
    """Empty: the route's own method plus OPTIONS."""
    allow_credentials: bool = Field(False, validation_alias="allowCredentials")
    max_age_s: Annotated[Int, Field(ge=0)] | None = Field(None, validation_alias="maxAge")
    cache_control: str | None = Field(None, validation_alias="cacheControl")

    @model_validator(mode="before")
    @classmethod
    def _one_origin(cls, data: Any) -> Any:
        if isinstance(data, dict) and "origin" in data:
            if "origins" in data:
                raise ValueError("give either origin or origins, not both")
            data = {**data, "origins": [data["origin"]]}
            del data["origin"]
        return data


def _cors(value: Any) -> Any:
    if value is True:
        return {}
    if value is False:
        return None
    return value


class HttpEvent(Frozen):
    """An API Gateway REST API (v1) route; the function gets the v1 proxy event."""

    kind: Literal["http"] = "http"
    path: Annotated[str, AfterValidator(_route_path)]
    method: Annotated[
        Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"],
        BeforeValidator(lambda v: "ANY" if v == "*" else _upper(v)),
    ]
    cors: Annotated[CorsConfig | None, BeforeValidator(_cors)] = None
    private: bool = False


def _api_method(value: Any) -> Any:
    method = _upper(value)
    if method == "ANY":
        return "*"
    if method != "*" and method not in HTTP_METHODS:
        raise ValueError(
            f"{show(value)} is not an HTTP method (allowed: *, {', '.join(HTTP_METHODS)})"
        )
    return method


class HttpApiEvent(Frozen):
    """An API Gateway HTTP API (v2) route; ``method``/``path`` ``*`` is the catch-all."""

    kind: Literal["http_api"] = "http_api"
    method: Annotated[str, BeforeValidator(_api_method)]
    path: Annotated[str, AfterValidator(lambda v: v if v == "*" else _route_path(v))]
