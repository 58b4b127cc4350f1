"""skylet's own HTTP/1.1 server, on httptools' parser: the listener, one protocol per
connection (function routes served directly, the rest through the ASGI app), the ASGI cycle and
the response framing. docs/http.md, "Serving", says why skylet writes this itself."""

from __future__ import annotations

from skylet.gateway.http1.limits import Limits
from skylet.gateway.http1.listener import Listener
from skylet.gateway.http1.protocol import Http1Protocol
from skylet.gateway.http1.types import Service

__all__ = ["Http1Protocol", "Limits", "Listener", "Service"]
