"""``architecture`` (x86_64 or arm64): a function's own, the provider's for all (the
Serverless Framework's), ``defaults`` in skylet.yaml; what its usage is priced as."""

from __future__ import annotations

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest
from tests.manifest.conftest import WriteManifest

SERVERLESS = """
service: s
provider: {name: aws, architecture: arm64}
functions:
  inherits: {handler: h.handler}
  own: {handler: h.handler, architecture: x86_64}
"""
SKYLET = """
service: s
defaults: {architecture: arm64}
functions:
  inherits: {handler: h.handler}
  own: {handler: h.handler, architecture: x86_64}
"""


@pytest.mark.parametrize(("text", "name"), [(SERVERLESS, None), (SKYLET, "skylet.yaml")])
def test_a_functions_architecture_or_the_one_given_for_all(
    write: WriteManifest, text: str, name: str | None
) -> None:
    manifest = load_manifest(write(text, name) if name else write(text))
    assert manifest.function("inherits").architecture == "arm64"
    assert manifest.function("own").architecture == "x86_64"


def test_the_default_is_x86_64(write: WriteManifest) -> None:
    manifest = load_manifest(write("service: s\nfunctions:\n  f: {handler: h.handler}\n"))
    assert manifest.function("f").architecture == "x86_64"


def test_another_architecture_names_the_key_and_the_choices(write: WriteManifest) -> None:
    text = "service: s\nfunctions:\n  f:\n    handler: h.handler\n    architecture: riscv\n"
    with pytest.raises(ConfigError) as error:
        load_manifest(write(text))
    assert "functions.f.architecture" in str(error.value)
    assert "arm64" in str(error.value)
