"""DynamoDB's typed values, as the wire carries them: ``{"S": "x"}``, ``{"N": "1.5"}``,
``{"B": b"..."}`` (the codec has decoded base64), ``{"BOOL": True}``, ``{"NULL": True}``,
``{"M": {...}}``, ``{"L": [...]}``, ``{"SS": [...]}``, ``{"NS": [...]}``, ``{"BS": [...]}``.

Pure functions: validation (with DynamoDB's messages), number normalisation (38 significant
digits, magnitudes 1E-130 to 9.99…E+125), comparison and equality as expressions see them,
an order-preserving byte encoding of key values (so SQL's ``ORDER BY`` on a BLOB orders as
DynamoDB orders sort keys), and item size accounting (the 400 KB limit).
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from skylet.errors import ServiceError

Value = dict[str, Any]
Item = dict[str, Value]

TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})
SETS = {"SS": "S", "NS": "N", "BS": "B"}
KEY_TYPES = frozenset({"S", "N", "B"})
MAX_ITEM_BYTES = 400 * 1024
_NUMBERS = decimal.Context(prec=38, Emax=125, Emin=-130, traps=[decimal.InvalidOperation])
_SET_NAMES = {"SS": "string set", "NS": "number set", "BS": "binary set"}


def invalid(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def parameter(message: str) -> ServiceError:
    return invalid(f"One or more parameter values were invalid: {message}")


def type_of(value: Value) -> str:
    """The one type a value names; ValidationException for none or several."""
    if len(value) != 1:
        raise invalid(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly "
            "one of the supported datatypes"
            if value
            else "Supplied AttributeValue is empty, must contain exactly one of the supported "
            "datatypes"
        )
    (kind,) = value
    if kind not in TYPES:
        raise invalid(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
        )
    return str(kind)


def number(text: str) -> Decimal:
    """A number as DynamoDB reads it: 38 significant digits, 1E-130 ≤ |n| < 1E+126."""
    try:
        value = Decimal(text.strip()) if isinstance(text, str) else Decimal(str(text))
    except decimal.InvalidOperation:
        raise invalid("A value provided cannot be converted into a number") from None
    if not value.is_finite():
        raise invalid("A value provided cannot be converted into a number")
    if value == 0:
        return Decimal(0)
    digits = value.normalize(decimal.Context(prec=100)).as_tuple().digits
    if len(digits) > 38:
        raise invalid("Attempting to store more than 38 significant digits in a Number")
    magnitude = value.copy_abs().adjusted()
    if magnitude > 125:
        raise invalid(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        )
    if magnitude < -130:
        raise invalid(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return value


def number_text(value: Decimal) -> str:
    """DynamoDB's canonical text of a number: no exponent, no trailing zeros (``"1.50"`` is
    answered ``"1.5"``, ``"1E+3"`` ``"1000"``)."""
    if value == 0:
        return "0"
    text = format(value.normalize(decimal.Context(prec=100)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def add(a: str, b: str, *, subtract: bool = False) -> str:
    """``a + b`` (or ``a - b``) at DynamoDB's precision; an inexact result is refused."""
    x, y = number(a), number(b)
    try:
        result = _NUMBERS.subtract(x, y) if subtract else _NUMBERS.add(x, y)
    except decimal.InvalidOperation:
        raise invalid(
            "Number overflow. Attempting to store a number with magnitude larger than "
            "supported range"
        ) from None
    return number_text(number(str(result)))


def normalise(value: Value, *, top: bool = True) -> Value:
    """``value`` checked as DynamoDB checks what it stores, numbers in canonical text and
    sets without duplicates; ValidationException naming the mistake."""
    kind = type_of(value)
    data = value[kind]
    if kind == "N":
        return {"N": number_text(number(data))}
    if kind in SETS:
        if not data:
            raise parameter(f"An {_SET_NAMES[kind]} may not be empty")
        if kind == "NS":
            members = [number_text(number(n)) for n in data]
            keys: list[Any] = [number(n) for n in members]
        else:
            members = list(data)
            keys = members
        if len(set(keys)) != len(keys):
            raise parameter(f"Input collection {_render_set(kind, data)} contains duplicates.")
        return {kind: members}
    if kind == "M":
        return {"M": {k: normalise(v, top=False) for k, v in data.items()}}
    if kind == "L":
        return {"L": [normalise(v, top=False) for v in data]}
    if kind == "NULL" and data is not True:
        raise parameter("Null attribute value types must have the value of true")
    return value


def _render_set(kind: str, data: list[Any]) -> str:
    return "[" + ", ".join(str(m) for m in data) + "]"


def normalise_item(item: Mapping[str, Value]) -> Item:
    for name in item:
        if name == "":
            raise parameter("An AttributeValue may not contain an empty string")
    return {name: normalise(value) for name, value in item.items()}


# --- comparison -----------------------------------------------------------------------------


def _set_key(kind: str, member: Any) -> Any:
    return number(member) if kind == "NS" else member


def equal(a: Value | None, b: Value | None) -> bool:
    """Equality as ``=`` sees it: same type and value; sets as sets, numbers as numbers."""
    if a is None or b is None:
        return False
    (ka,) = a
    (kb,) = b
    if ka != kb:
        return False
    x, y = a[ka], b[kb]
    if ka == "N":
        return number(x) == number(y)
    if ka in SETS:
        return {_set_key(ka, m) for m in x} == {_set_key(kb, m) for m in y}
    if ka == "M":
        return x.keys() == y.keys() and all(equal(x[k], y[k]) for k in x)
    if ka == "L":
        return len(x) == len(y) and all(equal(p, q) for p, q in zip(x, y, strict=True))
    return bool(x == y)


def order(a: Value | None, b: Value | None) -> int | None:
    """-1, 0 or 1 for two values of one scalar type (S by UTF-8 bytes, N numerically, B by
    unsigned bytes); None when they cannot be ordered (a comparison is then false)."""
    if a is None or b is None:
        return None
    (ka,) = a
    (kb,) = b
    if ka != kb or ka not in KEY_TYPES:
        return None
    x: Any
    y: Any
    if ka == "N":
        x, y = number(a[ka]), number(b[kb])
    elif ka == "S":
        x, y = a[ka].encode(), b[kb].encode()
    else:
        x, y = bytes(a[ka]), bytes(b[kb])
    return int(x > y) - int(x < y)


def member_of(container: Value, element: Value) -> bool:
    """``contains``' test on a set or a list (a string's substring test is the caller's)."""
    (kind,) = container
    if kind in SETS:
        (ek,) = element
        if SETS[kind] != ek:
            return False
        target = _set_key(kind, element[ek])
        return any(_set_key(kind, m) == target for m in container[kind])
    if kind == "L":
        return any(equal(v, element) for v in container["L"])
    return False


# --- keys: an order-preserving encoding -----------------------------------------------------


def key_bytes(value: Value) -> bytes:
    """Bytes whose unsigned order is DynamoDB's order of key values of one type: strings by
    UTF-8, binaries as they are, numbers by value.

    A number is written as sign, exponent and digits: 0 is ``01``; a positive ``02``, its
    decimal exponent + 1000 in two bytes, then its digits in ASCII (``12`` < ``123`` because a
    prefix sorts first, as 0.12 < 0.123); a negative ``00``, 1000 - exponent, its digits each
    complemented to 9, and ``~`` last, so that -0.12 (``87~``) sorts after -0.123 (``876~``).
    """
    (kind,) = value
    if kind == "S":
        return str(value["S"]).encode()
    if kind == "B":
        return bytes(value["B"])
    n = number(value["N"])
    if n == 0:
        return b"\x01"
    sign, digits, exponent = n.normalize(decimal.Context(prec=100)).as_tuple()
    assert isinstance(exponent, int)
    adjusted = exponent + len(digits)  # value = 0.d1d2... * 10**adjusted
    text = "".join(str(d) for d in digits)
    if not sign:
        return b"\x02" + (adjusted + 1000).to_bytes(2, "big") + text.encode()
    flipped = "".join(str(9 - int(d)) for d in text)
    return b"\x00" + (1000 - adjusted).to_bytes(2, "big") + flipped.encode() + b"~"


# --- size -----------------------------------------------------------------------------------


def size(value: Value) -> int:
    """The bytes a value counts for, as DynamoDB documents it: strings and binaries their
    length, numbers about one byte per two significant digits plus one, BOOL and NULL one byte,
    a list or map 3 bytes plus one per element plus its elements, sets their members."""
    (kind,) = value
    data = value[kind]
    if kind == "S":
        return len(data.encode())
    if kind == "B":
        return len(data)
    if kind == "N":
        return _number_size(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(m.encode()) for m in data)
    if kind == "BS":
        return sum(len(m) for m in data)
    if kind == "NS":
        return sum(_number_size(m) for m in data)
    if kind == "L":
        return 3 + sum(1 + size(v) for v in data)
    return 3 + sum(1 + len(k.encode()) + size(v) for k, v in data.items())


def _number_size(text: str) -> int:
    n = number(text)
    if n == 0:
        return 1
    digits = len(n.normalize(decimal.Context(prec=100)).as_tuple().digits)
    return (digits + 1) // 2 + 1


def item_size(item: Mapping[str, Value]) -> int:
    return sum(len(name.encode()) + size(value) for name, value in item.items())


def check_item_size(item: Mapping[str, Value]) -> None:
    if item_size(item) > MAX_ITEM_BYTES:
        raise invalid("Item size has exceeded the maximum allowed size")


def render(value: Value) -> str:
    """A value as DynamoDB's messages print it: ``{N:5}``, ``{S:abc}``."""
    (kind,) = value
    return f"{{{kind}:{value[kind]}}}"
