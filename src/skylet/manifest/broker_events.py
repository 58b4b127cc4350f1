"""Knative-style broker triggers: CloudEvents attribute filters and delivery (retry, DLQ)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasPath, BeforeValidator, Field

from skylet.manifest.diagnostics import show, span
from skylet.manifest.fields import DataMap, Frozen, Int, NonEmpty, StrMap

_CE_ATTRIBUTE = re.compile(r"^[a-z0-9]{1,20}$")
_ISO_DURATION = re.compile(r"^P(?!$)(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$")


def _duration(value: str) -> str:
    if not _ISO_DURATION.match(value):
        raise ValueError(f"{show(value)} is not an ISO 8601 duration (allowed: e.g. PT0.5S, PT2M)")
    return value


class DeliverySpec(Frozen):
    """Knative delivery: retries with backoff, then the dead-letter sink (a function key/URL).
    skylet.eventing.policy says what each field does."""

    retry: Annotated[Int, Field(ge=0)] | None = None
    backoff_policy: Literal["linear", "exponential"] = Field(
        "exponential", validation_alias="backoffPolicy"
    )
    backoff_delay: Annotated[str, AfterValidator(_duration)] | None = Field(
        None, validation_alias="backoffDelay"
    )
    dead_letter_sink: NonEmpty | None = Field(None, validation_alias="deadLetterSink")
    #: Each try's limit (ISO 8601); a function's own timeout when not given.
    timeout: Annotated[str, AfterValidator(_duration)] | None = None


def _attributes(value: Any) -> Any:
    if isinstance(value, dict):
        for name in value:
            if not _CE_ATTRIBUTE.match(str(name)):
                raise ValueError(
                    f"{show(name)} is not a CloudEvents attribute name "
                    f"(allowed: {span(1, 20)} lower-case letters and digits)"
                )
    return value


_DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")


def _filters(value: Any) -> Any:
    for item in value if isinstance(value, list | tuple) else ():
        _check_dialect(item)
    return value


def _check_dialect(item: Any) -> None:
    choices = ", ".join(_DIALECTS)
    if not isinstance(item, dict) or len(item) != 1:
        raise ValueError(f"{show(item)} is not a filter (allowed: a mapping with one of {choices})")
    if next(iter(item)) not in _DIALECTS:
        raise ValueError(f"{next(iter(item))!r} is not a filter dialect (allowed: {choices})")
    ((dialect, body),) = item.items()
    if dialect in ("all", "any") and isinstance(body, list):
        for inner in body:
            _check_dialect(inner)
    elif dialect == "not":
        _check_dialect(body)
    elif dialect in ("exact", "prefix", "suffix") and not (isinstance(body, dict) and body):
        raise ValueError(f"{dialect}: {show(body)} is not a mapping of attribute to value")


class CloudEventTrigger(Frozen):
    """A Knative-style trigger on a broker. ``attributes`` is the exact-match filter; ``filters``
    the CloudEvents subscriptions-API dialects (exact, prefix, suffix, all, any, not)."""

    kind: Literal["cloudevent"] = "cloudevent"
    broker: NonEmpty = "default"
    attributes: Annotated[StrMap, BeforeValidator(_attributes)] = Field(
        default_factory=dict, validation_alias=AliasPath("filter", "attributes")
    )
    filters: Annotated[tuple[DataMap, ...], BeforeValidator(_filters)] = ()
    delivery: DeliverySpec | None = None
