"""Cloud Functions style functions that use Flask itself, run as functions-framework runs them.

functions-framework serves an HTTP function from a Flask app: the function receives
``flask.request`` inside a request context, so ``flask.jsonify``, ``make_response``,
``flask.request``, ``abort`` and ``g`` all work, and Flask turns the return value into the
response. Code written for it uses those freely. When the function's Flask is loaded (its code
imported it, itself or through ``functions_framework``, or its template preloaded it from the
function's requirements: skylet.worker.preload), skylet's instance does the same: the request
becomes a WSGI environ (``wsgi.environ``), a Flask app's request context is pushed around the
call, and Flask makes the response. skylet never imports a Flask of its own; functions without
one get werkzeug's request (``wsgi.request``), which needs no Flask.

The app is made, and answers one request, in the function's template (:func:`prepare`), so
each instance inherits it instead of making its own on its cold start (:func:`bridge`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from skylet.worker.http_envelope import Answer, EnvelopeRequest
from skylet.worker.web.response import response_answer
from skylet.worker.web.wsgi import environ


def wanted() -> bool:
    """Whether the function's code imported Flask (checked once its module is loaded), or its
    template did from the function's own requirements (skylet.worker.preload)."""
    return "flask" in sys.modules


class FlaskBridge:
    """One Flask app per instance, as functions-framework has one per process."""

    def __init__(self, name: str) -> None:
        import flask  # only when the function's code already imported it

        self.name = name
        self.flask = flask
        self.app = flask.Flask(name)

    def answer(self, envelope: EnvelopeRequest, call: Callable[[Any], Any]) -> Answer:
        """Run ``call(flask.request)`` in a request context for ``envelope`` and return the
        response Flask makes of its result. What the function raises propagates (an HTTP
        exception such as ``abort(404)``'s included), and so does Flask's TypeError for a
        result that is no response (``None``)."""
        with self.app.request_context(environ(envelope)) as context:
            # What flask.request stands for, as functions-framework passes it.
            result = call(context.request)
            return response_answer(self.app.make_response(result))


#: The bridge the function's template made and rehearsed (:func:`prepare`), which each of its
#: instances inherits: ~0.7 ms to make the app and ~1 ms for its first request off every cold
#: start.
_prepared: FlaskBridge | None = None


def prepare(name: str, envelope: EnvelopeRequest) -> None:
    """In a template whose function's Flask is loaded: make its instances' bridge for
    ``name`` and answer ``envelope`` once with it (Flask's lazy imports and first-request
    costs, taken here). Nothing when Flask is not loaded, or the rehearsal fails."""
    global _prepared
    if not wanted():
        return
    try:
        made = FlaskBridge(name)
        made.answer(envelope, lambda request: "")
    except BaseException:  # the function's own Flask: whatever it did, each instance makes its own
        return
    _prepared = made


def bridge(name: str) -> FlaskBridge:
    """The instance's bridge: its template's, when made for the same module and the same
    Flask the function's code imported; a new one otherwise."""
    made = _prepared
    if made is not None and made.name == name and made.flask is sys.modules.get("flask"):
        return made
    return FlaskBridge(name)
