"""A REST API's configured binaryMediaTypes, end to end: which request bodies arrive base64, and
which base64 results go back as binary (by the first type the client accepts)."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.e2e.conftest import Server, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: media
binary_media_types: [image/png]
functions:
  echo:
    handler: web_handlers.echo_event
    events:
      - http: {method: POST, path: /echo}
  shaped:
    handler: web_handlers.shaped
    events:
      - http: {method: GET, path: /shaped}
"""


server = module_server("media", MANIFEST)


def test_a_body_of_a_configured_type_arrives_base64_and_others_as_text(server: Server) -> None:
    png = httpx.post(f"{server.url}/echo", content=b"png", headers={"content-type": "image/png"})
    assert (png.json()["body"], png.json()["isBase64Encoded"]) == ("cG5n", True)
    # Not configured here, though skylet's defaults would treat it as binary.
    octets = {"content-type": "application/octet-stream"}
    other = httpx.post(f"{server.url}/echo", content=b"abc", headers=octets).json()
    assert (other["body"], other["isBase64Encoded"]) == ("abc", False)


def test_a_base64_result_is_binary_only_for_a_client_that_accepts_a_binary_type_first(
    server: Server,
) -> None:
    url = f"{server.url}/shaped?kind=binary"
    assert httpx.get(url, headers={"accept": "image/png"}).content == b"\x89PNG\x00\xff"
    as_text = httpx.get(url, headers={"accept": "text/html, image/png"})
    assert as_text.content == base64.b64encode(b"\x89PNG\x00\xff")
    assert as_text.headers["content-type"] == "image/png"
