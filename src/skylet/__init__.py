"""skylet: a serverless platform for Python functions that you run yourself."""

from __future__ import annotations

__version__ = "0.1.0"
