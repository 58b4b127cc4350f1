"""The request a Cloud Functions style function receives: werkzeug's ``Request``, built from a
WSGI environ (PEP 3333) made of the HTTP envelope, as functions-framework's server would make
it. Flask's request (``flask_bridge``) is read from the same environ.

Repeated headers are joined with ``,`` as WSGI servers join them (``Cookie`` with ``; ``, so
that each cookie still parses); the body is ``wsgi.input``, marked complete
(``wsgi.input_terminated``), so werkzeug reads all of it with or without a Content-Length.
"""

from __future__ import annotations

# werkzeug's URLs (request.url, base_url) pass the host through the idna codec, which Python
# imports on first use: here, so that the zygote imports it once for every instance.
import encodings.idna  # noqa: F401
import io
import sys
from typing import Any

from werkzeug.wrappers import Request

from skylet.worker.http_envelope import EnvelopeRequest

_JOINED_WITH = {"HTTP_COOKIE": "; "}


def request(envelope: EnvelopeRequest) -> Request:
    """The werkzeug request of ``envelope``."""
    return Request(environ(envelope))


def environ(envelope: EnvelopeRequest) -> dict[str, Any]:
    """The WSGI environ of a request: CGI keys, ``HTTP_*`` headers, ``wsgi.*``."""
    host, _, port = envelope.host.rpartition(":")
    if not host or not port.isdigit():  # no port, or an IPv6 literal without one
        host, port = envelope.host, "443" if envelope.scheme == "https" else "80"
    query = _raw(envelope.query)
    raw_uri = _raw(envelope.raw_path) + (f"?{query}" if query else "")
    env: dict[str, Any] = {
        "REQUEST_METHOD": envelope.method,
        "SCRIPT_NAME": _wsgi_text(envelope.root_path),
        "PATH_INFO": _wsgi_text(envelope.path),
        "QUERY_STRING": query,
        "RAW_URI": raw_uri,
        "REQUEST_URI": raw_uri,
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": envelope.remote_addr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": envelope.scheme,
        "wsgi.input": io.BytesIO(envelope.body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in envelope.headers:
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        env[key] = f"{env[key]}{_JOINED_WITH.get(key, ',')}{value}" if key in env else value
    # The envelope's host is the request's (its Host header, or the server's address).
    env["HTTP_HOST"] = envelope.host
    return env


def _wsgi_text(text: str) -> str:
    """Decoded text (a path) as WSGI's str: its UTF-8 bytes as Latin-1 characters."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _raw(text: str) -> str:
    """Text as received (a query, a raw path): the gateway's is the bytes as Latin-1 already;
    one that cannot be (an Invoke API envelope's) is taken as text."""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return _wsgi_text(text)
    return text
