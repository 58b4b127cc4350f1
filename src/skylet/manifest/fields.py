"""The base model and the annotated field types shared by events, functions and resources.

Every model is a frozen pydantic model that rejects unknown keys. Field aliases
(``validation_alias``) carry the serverless.yml spelling (``batchSize``); the field name is the
skylet.yaml spelling (``batch_size``); which one applies is chosen per call by
``validation.validate_model``. Validators raise ValueError whose text already shows the bad
value, so the message needs only the file, line and key in front.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

from skylet.manifest.diagnostics import show
from skylet.manifest.frozen import FrozenDict, deep_freeze, freeze_intrinsic, freeze_mapping
from skylet.manifest.intrinsics import Intrinsic
from skylet.manifest.validation import Allowed


class Frozen(BaseModel):
    """Base of every manifest model: immutable, strict about keys."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
        revalidate_instances="never",
    )


def _no_bool(value: Any) -> Any:
    # pydantic's lax mode reads `true` as 1; in a manifest that is always a mistake.
    if isinstance(value, bool):
        raise ValueError(f"{show(value)} is not a number")
    return value


def _str_or_ref(value: Any) -> str | Intrinsic:
    if isinstance(value, str):
        return value
    if isinstance(value, Intrinsic):
        return freeze_intrinsic(value)
    raise ValueError(
        f"{show(value)} is not a string or an intrinsic (allowed: an ARN or name, "
        "!Ref, !GetAtt, !Sub, !Join, !ImportValue)"
    )


def _destination(value: Any) -> str | Intrinsic:
    # serverless.yml also writes a destination as {type: sqs, arn: ...}; only the target matters.
    if isinstance(value, Mapping) and "arn" in value:
        value = value["arn"]
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Intrinsic):
        return freeze_intrinsic(value)
    raise ValueError(
        f"{show(value)} is not a destination (allowed: a function key, an ARN, !Ref or !GetAtt "
        "of a queue or topic)"
    )


def _frozen_str_map(value: Mapping[str, str]) -> FrozenDict[str, str]:
    return FrozenDict(value)


Int = Annotated[int, BeforeValidator(_no_bool)]
Num = Annotated[float, BeforeValidator(_no_bool)]
StrOrRef = Annotated[str | Intrinsic, PlainValidator(_str_or_ref)]
Destination = Annotated[str | Intrinsic, PlainValidator(_destination)]
Data = Annotated[Any, AfterValidator(deep_freeze)]
"""Free-form JSON-like data (an event input, a filter pattern), deep-frozen."""
DataMap = Annotated[Mapping[str, Any], AfterValidator(freeze_mapping)]
StrMap = Annotated[Mapping[str, str], AfterValidator(_frozen_str_map)]
BatchSize = Annotated[Int, Field(ge=1, le=10_000)]
FilterPatterns = Annotated[
    tuple[DataMap, ...], Allowed("a list of event filter patterns (mappings)")
]
NonEmpty = Annotated[str, Field(min_length=1)]
Flag = Annotated[bool, Field(strict=True), Allowed("true or false")]
