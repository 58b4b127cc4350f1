from __future__ import annotations

import pytest

from skylet.aws.protocols.models import ServiceModels


@pytest.fixture(scope="session")
def models() -> ServiceModels:
    """One cache of models for the suite: each model is read once."""
    return ServiceModels()
