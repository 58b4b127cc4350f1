"""skylet.storage inside and outside functions, boto3 inside functions, and `skylet bucket`."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from skylet.storage import Storage, StorageError
from tests.e2e.conftest import Server, cli, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: sdk
functions:
  sdk:
    handler: s3_handlers.use_sdk
    timeout_s: 30  # its first call imports boto3
  boto:
    handler: s3_handlers.use_boto3
    timeout_s: 30
"""


server = module_server("sdk", MANIFEST)


@pytest.fixture
def storage(server: Server) -> Storage:
    client = Storage(server.url, env={})
    client.create_bucket("sdk-bucket")
    return client


def test_the_sdk_puts_gets_lists_presigns_and_deletes(storage: Storage) -> None:
    etag = storage.put("sdk-bucket", "dir/a b.txt", "hello", content_type="text/plain")
    assert etag == hashlib.md5(b"hello").hexdigest()
    assert storage.get("sdk-bucket", "dir/a b.txt") == b"hello"
    storage.put("sdk-bucket", "dir/b.txt", b"\x00\x01")
    assert list(storage.list("sdk-bucket", prefix="dir/")) == ["dir/a b.txt", "dir/b.txt"]
    assert httpx.get(storage.presign("sdk-bucket", "dir/b.txt")).content == b"\x00\x01"
    upload = storage.presign("sdk-bucket", "dir/c.txt", method="PUT")
    assert httpx.put(upload, content=b"via url").status_code == 200
    assert storage.get("sdk-bucket", "dir/c.txt") == b"via url"
    storage.delete("sdk-bucket", "dir/a b.txt")
    with pytest.raises(StorageError) as error:
        storage.get("sdk-bucket", "dir/a b.txt")
    assert (error.value.code, error.value.status) == ("NoSuchKey", 404)
    assert "sdk-bucket" in storage.buckets()


def test_the_sdk_sends_large_files_in_parts_with_running_progress(
    storage: Storage, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(9 * 1024 * 1024))
    sent: list[int] = []
    etag = storage.upload("sdk-bucket", "big.bin", str(source), progress=sent.append)
    assert etag.endswith("-2")  # boto3's 8 MB parts: a multipart ETag
    assert sent == sorted(sent) and sent[-1] == source.stat().st_size
    seen: list[tuple[int, int]] = []
    back = str(tmp_path / "back")
    size = storage.download("sdk-bucket", "big.bin", back, progress=lambda *a: seen.append(a))
    assert size == seen[-1][0] == seen[-1][1] == source.stat().st_size
    assert (tmp_path / "back").read_bytes() == source.read_bytes()


def test_an_unreachable_endpoint_is_a_storage_error() -> None:
    with pytest.raises(StorageError) as error:
        Storage("http://127.0.0.1:9", env={}).get("b", "k")
    assert (error.value.code, error.value.status) == ("EndpointConnectionError", 0)


def test_importing_the_sdk_imports_no_boto3() -> None:
    code = "import sys, skylet.storage; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert result.stdout == b"False\n"


def test_wrong_credentials_are_refused_by_the_sdk(server: Server) -> None:
    with pytest.raises(StorageError) as error:
        Storage(server.url, access_key="test", secret_key="nope", env={}).buckets()
    assert error.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize(
    ("function", "expected"), [("sdk", "written inside"), ("boto", "boto3 inside")]
)
def test_functions_reach_storage_without_configuration(
    server: Server, storage: Storage, function: str, expected: str
) -> None:
    response = httpx.post(
        f"{server.url}/2015-03-31/functions/{function}/invocations",
        json={"bucket": "sdk-bucket"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "x-amz-function-error" not in response.headers, response.text
    assert response.json() == expected


def test_the_bucket_command_copies_lists_and_removes(server: Server, tmp_path: Path) -> None:
    env = {"SKYLET_ENDPOINT": server.url, "AWS_ACCESS_KEY_ID": "test"}
    env["AWS_SECRET_ACCESS_KEY"] = "test"
    env.pop("AWS_ENDPOINT_URL_S3", None)
    assert cli("bucket", "mb", "s3://cli-bucket", env=env).returncode == 0
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024))
    up = cli("bucket", "cp", str(source), "s3://cli-bucket/data/", env=env)
    assert up.returncode == 0, up.stderr
    assert "s3://cli-bucket/data/big.bin" in up.stdout
    listed = cli("bucket", "ls", "s3://cli-bucket/data/", env=env)
    assert listed.stdout.split() == ["data/big.bin"]
    down = cli("bucket", "cp", "s3://cli-bucket/data/big.bin", str(tmp_path / "back.bin"), env=env)
    assert down.returncode == 0, down.stderr
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()
    assert "cli-bucket" in cli("bucket", "ls", env=env).stdout
    assert cli("bucket", "rm", "s3://cli-bucket/data/big.bin", env=env).returncode == 0
    missing = cli("bucket", "cp", "s3://cli-bucket/data/big.bin", str(tmp_path / "x"), env=env)
    assert missing.returncode == 4  # not found (skylet.cli.exits)
    assert "NoSuchKey" in missing.stderr
