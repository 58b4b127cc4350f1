"""The function keys of the sandbox and of snapshots: ``ephemeralStorageSize``/``snapStart``
(the Serverless Framework's) and ``network`` (skylet's), with skylet.yaml's spellings."""

from __future__ import annotations

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest
from tests.manifest.conftest import WriteManifest

SERVERLESS = """
service: s
provider: {name: aws, runtime: python3.11}
functions:
  plain: {handler: h.handler}
  heavy:
    handler: h.handler
    ephemeralStorageSize: 2048
    snapStart: true
    network: false
"""
SKYLET = """
service: s
defaults: {network: false}
functions:
  plain: {handler: h.handler, network: true}
  heavy: {handler: h.handler, ephemeral_storage_size: 1024, snap_start: true}
"""


def test_serverless_keys_reach_the_function(write: WriteManifest) -> None:
    manifest = load_manifest(write(SERVERLESS))
    plain, heavy = manifest.function("plain"), manifest.function("heavy")
    assert (plain.ephemeral_storage_size, plain.snap_start, plain.network) == (512, False, True)
    assert (heavy.ephemeral_storage_size, heavy.snap_start, heavy.network) == (2048, True, False)


def test_skylet_keys_and_their_defaults(write: WriteManifest) -> None:
    manifest = load_manifest(write(SKYLET, "skylet.yaml"))
    plain, heavy = manifest.function("plain"), manifest.function("heavy")
    assert (plain.network, heavy.network) == (True, False)
    assert (heavy.ephemeral_storage_size, heavy.snap_start) == (1024, True)


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("ephemeralStorageSize", "256", "512"),
        ("ephemeralStorageSize", "20000", "10240"),
        ("snapStart", "'yes'", "true or false"),
        ("network", "0", "true or false"),
    ],
    ids=[
        "storage_below_lambdas_minimum",
        "storage_above_lambdas_maximum",
        "snap_start_as_a_string",
        "network_as_a_number",
    ],
)
def test_a_bad_value_names_the_key_and_what_is_allowed(
    write: WriteManifest, key: str, value: str, says: str
) -> None:
    text = f"service: s\nfunctions:\n  f:\n    handler: h.handler\n    {key}: {value}\n"
    with pytest.raises(ConfigError) as error:
        load_manifest(write(text))
    assert f"functions.f.{key}" in str(error.value)
    assert says in str(error.value)
