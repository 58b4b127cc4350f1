"""One contract for every blob store: the filesystem store, and the S3-backed store against a
real S3-compatible server (skylet's own S3 API in a `skylet up` process, or the server named by
SKYLET_TEST_S3_ENDPOINT with SKYLET_TEST_S3_KEY/SKYLET_TEST_S3_SECRET)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from skylet.blobs.base import BlobStore, ByteRange
from skylet.blobs.files import FileBlobs
from skylet.blobs.s3 import S3Blobs
from skylet.errors import S3Error
from tests.e2e.conftest import Server, project_dir, start_server, stop_server

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    if os.environ.get("SKYLET_TEST_S3_ENDPOINT"):
        yield (
            os.environ["SKYLET_TEST_S3_ENDPOINT"],
            os.environ.get("SKYLET_TEST_S3_KEY", "test"),
            os.environ.get("SKYLET_TEST_S3_SECRET", "test"),
        )
        return
    manifest = "service: s3server\nfunctions: {}\n"
    directory = project_dir(tmp_path_factory.mktemp("s3server"), manifest)
    server: Server = start_server(directory, "--no-reload")
    yield server.url, "test", "test"
    stop_server(server)


@pytest.fixture(params=["files", pytest.param("s3", marks=pytest.mark.e2e)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "files":
        return FileBlobs(tmp_path / "blobs")
    endpoint, key, secret = request.getfixturevalue("s3_endpoint")
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 0}, s3={"addressing_style": "path"}),
    )
    return S3Blobs(client)


@pytest.fixture
async def bucket(store: BlobStore) -> str:
    name = f"c-{uuid.uuid4().hex[:16]}"
    await store.create_bucket(name)
    return name


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def read_all(store: BlobStore, bucket: str, key: str, rng: ByteRange | None = None) -> bytes:
    _, body = await store.read(bucket, key, rng)
    return b"".join([piece async for piece in body])


async def test_buckets(store: BlobStore) -> None:
    name = f"c-{uuid.uuid4().hex[:16]}"
    await store.create_bucket(name)
    await store.create_bucket(name, exist_ok=True)
    with pytest.raises(S3Error) as error:
        await store.create_bucket(name)
    assert error.value.code == "BucketAlreadyOwnedByYou"
    assert (await store.head_bucket(name)).name == name
    assert name in [b.name for b in await store.list_buckets()]
    await store.put(name, "k", chunks(b"x"))
    with pytest.raises(S3Error) as error:
        await store.delete_bucket(name)
    assert error.value.code == "BucketNotEmpty"
    await store.delete(name, "k")
    await store.delete_bucket(name)
    with pytest.raises(S3Error) as error:
        await store.head_bucket(name)
    assert error.value.code == "NoSuchBucket"


async def test_objects_stream_in_and_out_with_their_metadata(store: BlobStore, bucket: str) -> None:
    info = await store.put(
        bucket,
        "dir/a b+c.txt",
        chunks(b"hello, ", b"world"),
        content_type="text/plain",
        metadata={"owner": "ana"},
        headers={"cache-control": "max-age=5"},
    )
    assert info.etag == hashlib.md5(b"hello, world").hexdigest()
    assert info.size == 12
    head = await store.head(bucket, "dir/a b+c.txt")
    assert (head.content_type, dict(head.metadata)) == ("text/plain", {"owner": "ana"})
    assert head.headers.get("cache-control") == "max-age=5"
    assert await read_all(store, bucket, "dir/a b+c.txt") == b"hello, world"
    assert await read_all(store, bucket, "dir/a b+c.txt", ByteRange(7, 11)) == b"world"
    assert await store.delete(bucket, "dir/a b+c.txt") is True
    assert await store.delete(bucket, "dir/a b+c.txt") is False
    with pytest.raises(S3Error) as error:
        await store.head(bucket, "dir/a b+c.txt")
    assert error.value.code == "NoSuchKey"


async def test_listing_rolls_up_prefixes_and_pages(store: BlobStore, bucket: str) -> None:
    for key in ["a/1", "a/2", "a/b/3", "b/4", "c", "d"]:
        await store.put(bucket, key, chunks(b""))
    top = await store.list_objects(bucket, delimiter="/")
    assert [o.key for o in top.objects] == ["c", "d"]
    assert top.common_prefixes == ("a/", "b/")
    under = await store.list_objects(bucket, prefix="a/", delimiter="/")
    assert [o.key for o in under.objects] == ["a/1", "a/2"]
    assert under.common_prefixes == ("a/b/",)
    seen: list[str] = []
    after = ""
    while True:
        page = await store.list_objects(bucket, start_after=after, max_keys=2)
        seen += [o.key for o in page.objects]
        if not page.truncated:
            break
        assert page.next_token is not None
        after = page.next_token
    assert seen == ["a/1", "a/2", "a/b/3", "b/4", "c", "d"]


async def test_copy_keeps_or_replaces_metadata(store: BlobStore, bucket: str) -> None:
    await store.put(bucket, "src", chunks(b"data"), content_type="x/y", metadata={"a": "1"})
    kept = await store.copy(bucket, "src", bucket, "kept")
    assert (kept.content_type, dict(kept.metadata)) == ("x/y", {"a": "1"})
    replaced = await store.copy(
        bucket, "src", bucket, "new", replace_metadata=True, metadata={"b": "2"}
    )
    assert dict(replaced.metadata) == {"b": "2"}
    assert await read_all(store, bucket, "new") == b"data"


async def test_multipart_uploads(store: BlobStore, bucket: str) -> None:
    first, last = b"p" * (5 * 1024 * 1024), b"end"
    upload = await store.create_upload(bucket, "big", content_type="app/x")
    one = await store.upload_part(bucket, "big", upload, 1, chunks(first))
    two = await store.upload_part(bucket, "big", upload, 2, chunks(last))
    assert [(p.number, p.size) for p in await store.list_parts(bucket, "big", upload)] == [
        (1, len(first)),
        (2, len(last)),
    ]
    info = await store.complete_upload(bucket, "big", upload, [(1, one.etag), (2, two.etag)])
    digest = hashlib.md5(hashlib.md5(first).digest() + hashlib.md5(last).digest()).hexdigest()
    assert info.etag == f"{digest}-2"
    assert info.size == len(first) + len(last)
    assert await read_all(store, bucket, "big", ByteRange(len(first), len(first) + 2)) == b"end"
    small = await store.create_upload(bucket, "small")
    a = await store.upload_part(bucket, "small", small, 1, chunks(b"a"))
    b = await store.upload_part(bucket, "small", small, 2, chunks(b"b"))
    with pytest.raises(S3Error) as error:
        await store.complete_upload(bucket, "small", small, [(1, a.etag), (2, b.etag)])
    assert error.value.code == "EntityTooSmall"
    await store.abort_upload(bucket, "small", small)
    with pytest.raises(S3Error) as error:
        await store.list_parts(bucket, "small", small)
    assert error.value.code == "NoSuchUpload"


async def test_uploads_in_progress_are_listed_by_key_then_as_they_started(
    store: BlobStore, bucket: str
) -> None:
    first = await store.create_upload(bucket, "a/1")
    second = await store.create_upload(bucket, "a/1")
    other = await store.create_upload(bucket, "b")
    done = await store.create_upload(bucket, "c")
    part = await store.upload_part(bucket, "c", done, 1, chunks(b"x"))
    await store.complete_upload(bucket, "c", done, [(1, part.etag)])
    whole = await store.list_uploads(bucket)
    assert [(u.key, u.upload_id) for u in whole.uploads] == [
        ("a/1", first),
        ("a/1", second),
        ("b", other),
    ]
    rolled = await store.list_uploads(bucket, delimiter="/")
    assert ([u.key for u in rolled.uploads], list(rolled.common_prefixes)) == (["b"], ["a/"])
    page = await store.list_uploads(bucket, max_uploads=1)
    assert page.truncated
    assert (page.next_key_marker, page.next_upload_id_marker) == ("a/1", first)
    rest = await store.list_uploads(bucket, key_marker="a/1", upload_id_marker=first)
    assert [u.upload_id for u in rest.uploads] == [second, other]
    await store.abort_upload(bucket, "a/1", first)
    left = await store.list_uploads(bucket, prefix="a/")
    assert [u.upload_id for u in left.uploads] == [second]


async def test_the_file_store_lists_the_uploads_an_earlier_process_started(
    tmp_path: Path,
) -> None:
    before = FileBlobs(tmp_path / "blobs")
    await before.create_bucket("restarted")
    upload = await before.create_upload("restarted", "k", content_type="text/plain")
    after = FileBlobs(tmp_path / "blobs")
    listed = (await after.list_uploads("restarted")).uploads
    assert [(u.key, u.upload_id, u.content_type) for u in listed] == [("k", upload, "text/plain")]


@pytest.mark.e2e
def test_skylet_up_can_keep_its_objects_in_another_s3_server(
    s3_endpoint: tuple[str, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, key, secret = s3_endpoint
    directory = project_dir(tmp_path, "service: node\nfunctions: {}\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)  # what `skylet up --blobs` signs with
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    node = start_server(directory, "--no-reload", "--blobs", endpoint)
    try:

        def client(url: str) -> object:
            return boto3.client(
                "s3",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id=key,
                aws_secret_access_key=secret,
                config=Config(s3={"addressing_style": "path"}),
            )

        through_node = client(node.url)
        shared = client(endpoint)
        through_node.create_bucket(Bucket="shared-bucket")  # type: ignore[attr-defined]
        through_node.put_object(Bucket="shared-bucket", Key="k", Body=b"v")  # type: ignore[attr-defined]
        got = shared.get_object(Bucket="shared-bucket", Key="k")  # type: ignore[attr-defined]
        assert got["Body"].read() == b"v"
        assert not (directory / ".skylet" / "blobs" / "shared-bucket").exists()
    finally:
        stop_server(node)
