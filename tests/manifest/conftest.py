from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

WriteManifest = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> WriteManifest:
    """Write dedented YAML text as ``name`` in a fresh directory and return its path."""

    def _write(text: str, name: str = "serverless.yml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write
