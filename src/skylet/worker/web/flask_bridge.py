"""Cloud Functions style functions that use Flask itself, run as functions-framework runs them.

functions-framework serves an HTTP function from a Flask app: the function receives
``flask.request`` inside a request context, so ``flask.jsonify``, ``make_response``,
``flask.request``, ``abort`` and ``g`` all work, and Flask turns the return value into the
response. Code written for it uses those freely. When a function's code imported Flask (itself,
or through ``functions_framework``), skylet's instance does the same: the request becomes a WSGI
environ, a Flask app's request context is pushed around the call, and Flask makes the response.
skylet never imports Flask otherwise; functions that do not use it get skylet's own request
object (skylet.worker.web.Request), which needs no Flask.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any

from skylet.worker.http_envelope import Answer, EnvelopeRequest


def wanted() -> bool:
    """Whether the function's code imported Flask (checked once its module is loaded)."""
    return "flask" in sys.modules


class FlaskBridge:
    """One Flask app per instance, as functions-framework has one per process."""

    def __init__(self, name: str) -> None:
        import flask  # only when the function's code already imported it

        self.app = flask.Flask(name)

    def answer(self, envelope: EnvelopeRequest, call: Callable[[Any], Any]) -> Answer:
        """Run ``call(flask.request)`` in a request context for ``envelope`` and return the
        response Flask makes of its result. What the function raises propagates (an HTTP
        exception such as ``abort(404)``'s included), and so does Flask's TypeError for a
        result that is no response (``None``)."""
        with self.app.request_context(environ(envelope)) as context:
            result = call(
                context.request
            )  # what flask.request stands for, as functions-framework passes
            response = self.app.make_response(result)
            body = response.get_data()
        return response.status_code, list(response.headers.items()), body


def environ(envelope: EnvelopeRequest) -> dict[str, Any]:
    """The WSGI environ (PEP 3333) of a request: what Flask's request is read from."""
    host, _, port = envelope.host.rpartition(":")
    if not host or not port.isdigit():  # no port, or an IPv6 literal without one
        host, port = envelope.host, "443" if envelope.scheme == "https" else "80"
    env: dict[str, Any] = {
        "REQUEST_METHOD": envelope.method,
        "SCRIPT_NAME": envelope.root_path,
        # WSGI strings are bytes as sent, decoded as Latin-1.
        "PATH_INFO": envelope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": envelope.query,
        "RAW_URI": envelope.raw_path + (f"?{envelope.query}" if envelope.query else ""),
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": envelope.remote_addr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": envelope.scheme,
        "wsgi.input": io.BytesIO(envelope.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    env["REQUEST_URI"] = env["RAW_URI"]
    for name, value in envelope.headers:
        if name == "content-type":
            env["CONTENT_TYPE"] = value
        elif name == "content-length":
            env["CONTENT_LENGTH"] = value
        else:
            key = "HTTP_" + name.upper().replace("-", "_")
            env[key] = f"{env[key]},{value}" if key in env else value
    if "CONTENT_LENGTH" not in env and envelope.body:
        env["CONTENT_LENGTH"] = str(len(envelope.body))
    return env
