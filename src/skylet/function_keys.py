"""Each function's own credentials, as Lambda gives each execution environment its role's
temporary credentials (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``).
Pure.

Nothing is stored: all three are HMAC-SHA256 of the platform's secret and the function's name,
so every node with the same secret derives the same credentials, a restart keeps them valid,
and the authenticator recognises them from the request alone. The session token carries the
function's name and a MAC over it; the access key id and the secret key are derived from the
same name::

    token   = "skylet1." + base64url(name) + "." + hex(HMAC(secret, "token\\0" + name))[:32]
    key id  = "ASIA" + base32(HMAC(secret, "key\\0" + name))[:16]      (AWS's temporary form)
    secret  = base64(HMAC(secret, "secret\\0" + name))[:40]

A function that holds its own credentials learns nothing of another's: each is a MAC under the
platform's secret, which no function holds. The credentials do not expire (an instance cannot
be given new ones while it lives); they change when the platform's secret does.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Mapping
from typing import NamedTuple

_VERSION = "skylet1"
#: The prefix of AWS's temporary access key ids (an STS session's), which these are.
KEY_PREFIX = "ASIA"
#: What a configured key pair contributes to the secret: a label, so that the derivation's
#: key is never a secret used as is anywhere else.
_LABEL = b"skylet function credentials\0"


class FunctionCredentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str


def platform_secret(keys: Mapping[str, str]) -> bytes:
    """The secret derived from the configured key pairs (``--credentials``): the same on every
    node given the same pairs, whatever their order."""
    pairs = "\0".join(f"{key}:{secret}" for key, secret in sorted(keys.items()))
    return hashlib.sha256(_LABEL + pairs.encode()).digest()


def _mac(secret: bytes, purpose: str, name: str) -> bytes:
    return hmac.new(secret, f"{purpose}\0{name}".encode(), hashlib.sha256).digest()


@functools.lru_cache(maxsize=1024)
def credentials_for(secret: bytes, function: str) -> FunctionCredentials:
    """The credentials of ``function`` (its name, without a qualifier: every version and
    alias of a function shares its role, as on Lambda). Kept for the functions seen lately:
    each instance's environment and each request it signs derive them."""
    name = base64.urlsafe_b64encode(function.encode()).decode().rstrip("=")
    token = f"{_VERSION}.{name}.{_mac(secret, 'token', function).hex()[:32]}"
    key_id = KEY_PREFIX + base64.b32encode(_mac(secret, "key", function)).decode()[:16]
    secret_key = base64.b64encode(_mac(secret, "secret", function)).decode()[:40]
    return FunctionCredentials(key_id, secret_key, token)


def function_of(secret: bytes, token: str) -> str | None:
    """The function whose session token ``token`` is, or None when it is none of skylet's
    (malformed, or its MAC is not the platform's)."""
    version, _, rest = token.partition(".")
    name, _, mac = rest.partition(".")
    if version != _VERSION or not name or len(mac) != 32:
        return None
    try:
        function = base64.urlsafe_b64decode(name + "=" * (-len(name) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    expected = _mac(secret, "token", function).hex()[:32]
    return function if hmac.compare_digest(mac, expected) else None
