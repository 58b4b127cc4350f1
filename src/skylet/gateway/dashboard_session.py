"""The dashboard's session: with credentials configured a browser cannot sign SigV4, so a
signed caller (``skylet dashboard``) asks for a login link; opening it sets a session cookie
that admits the admin API's *read* requests (GET) and nothing else. Pure, ``now`` passed in.

A token is ``PURPOSE.EXPIRY.MAC``: MAC is HMAC-SHA256 of purpose and expiry (epoch seconds)
under a key derived from the platform's function secret, so the platform keeps no session
table and a restart with the same credentials keeps sessions valid. A login token lives
``LOGIN_TTL_S`` (it travels in a URL), the cookie ``SESSION_TTL_S``.
"""

from __future__ import annotations

import hashlib
import hmac

COOKIE = "skylet_dashboard"
LOGIN_TTL_S = 300
SESSION_TTL_S = 12 * 3600
_KEY_LABEL = b"skylet dashboard session v1"


def _key(secret: bytes) -> bytes:
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def issue(secret: bytes, purpose: str, now: float, ttl_s: int) -> str:
    """A token for ``purpose`` (``login`` or ``session``) valid for ``ttl_s`` from ``now``."""
    expiry = int(now) + ttl_s
    mac = hmac.new(_key(secret), f"{purpose}.{expiry}".encode(), hashlib.sha256).hexdigest()
    return f"{purpose}.{expiry}.{mac}"


def valid(secret: bytes, purpose: str, token: str, now: float) -> bool:
    """Whether ``token`` is one :func:`issue` made for ``purpose`` that has not expired."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != purpose or not parts[1].isdigit() or len(parts[1]) > 12:
        return False
    expected = hmac.new(_key(secret), f"{purpose}.{parts[1]}".encode(), hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts[2]) and int(parts[1]) > now


def cookie_of(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The session cookie's value among a request's ``Cookie`` headers, if any."""
    for name, value in headers:
        if name != b"cookie":
            continue
        for crumb in value.decode("latin-1").split(";"):
            key, _, found = crumb.strip().partition("=")
            if key == COOKIE:
                return found
    return None


def set_cookie(token: str) -> bytes:
    """The ``Set-Cookie`` value: HttpOnly (no script reads it), SameSite=Strict (no other
    site's page sends it), for the admin API's paths only."""
    return (
        f"{COOKIE}={token}; Path=/_skylet/; Max-Age={SESSION_TTL_S}; HttpOnly; SameSite=Strict"
    ).encode()
