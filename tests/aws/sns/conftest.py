"""One SNS server for a test module (``served``): switching these tests to ``skylet up`` is
a change to this fixture alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.aws.sns.served import Served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = Served(Path(tmp_path_factory.mktemp("sns")))
    yield server
    server.close()


@pytest.fixture(scope="module")
def sns(served: Served) -> Iterator[Any]:
    client = served.client()
    yield client
    client.close()
