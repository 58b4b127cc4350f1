"""skylet: a serverless platform for Python functions that you run yourself."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # ``from skylet import Response`` in a Cloud Functions style function, without importing the
    # worker's web package into everything that imports skylet.
    if name == "Response":
        from skylet.worker.web import Response

        return Response
    raise AttributeError(f"module 'skylet' has no attribute {name!r}")
