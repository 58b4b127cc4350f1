"""The file store under races and crashes: what S3 answers when an upload is aborted or a
bucket deleted mid-write, and nothing left behind; what a kill -9 leaves is reclaimed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from skylet.blobs import files
from skylet.blobs.files import FileBlobs
from skylet.errors import S3Error

pytestmark = pytest.mark.anyio


async def paused(first: bytes, gate: asyncio.Event, rest: bytes = b"") -> AsyncIterator[bytes]:
    yield first
    await gate.wait()
    yield rest


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_an_upload_aborted_during_a_part_answers_no_such_upload(tmp_path: Path) -> None:
    store = FileBlobs(tmp_path)
    await store.create_bucket("bkt")
    upload = await store.create_upload("bkt", "k")
    gate = asyncio.Event()
    writing = asyncio.ensure_future(store.upload_part("bkt", "k", upload, 1, paused(b"x", gate)))
    await asyncio.sleep(0.01)
    await store.abort_upload("bkt", "k", upload)
    gate.set()
    with pytest.raises(S3Error) as error:
        await writing
    assert error.value.code == "NoSuchUpload"
    assert not (tmp_path / "bkt" / "uploads" / upload).exists()


async def test_a_bucket_deleted_during_a_put_answers_no_such_bucket(tmp_path: Path) -> None:
    store = FileBlobs(tmp_path)
    await store.create_bucket("bkt")
    gate = asyncio.Event()
    writing = asyncio.ensure_future(store.put("bkt", "k", paused(b"x", gate)))
    await asyncio.sleep(0.01)
    await store.delete_bucket("bkt")
    gate.set()
    with pytest.raises(S3Error) as error:
        await writing
    assert error.value.code == "NoSuchBucket"
    assert not (tmp_path / "bkt").exists()


async def test_an_upload_aborted_during_its_completion_answers_no_such_upload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FileBlobs(tmp_path)
    await store.create_bucket("bkt")
    upload = await store.create_upload("bkt", "k")
    part = await store.upload_part("bkt", "k", upload, 1, chunks(b"x"))
    join = files.join_parts

    def slow_join(*args: object) -> None:
        time.sleep(0.2)  # the abort lands while the parts are being joined
        join(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "join_parts", slow_join)
    completing = asyncio.ensure_future(store.complete_upload("bkt", "k", upload, [(1, part.etag)]))
    await asyncio.sleep(0.05)
    await store.abort_upload("bkt", "k", upload)
    with pytest.raises(S3Error) as error:
        await completing
    assert error.value.code == "NoSuchUpload"
    assert leftovers(tmp_path / "bkt") == ["bucket.json"]


async def test_what_a_kill_9_left_is_reclaimed_on_the_next_start(tmp_path: Path) -> None:
    store = FileBlobs(tmp_path)
    await store.create_bucket("bkt")
    await store.put("bkt", "kept", chunks(b"data"))
    upload = await store.create_upload("bkt", "k")
    kept = set(leftovers(tmp_path))
    objects = tmp_path / "bkt" / "objects" / "ab"
    objects.mkdir(parents=True, exist_ok=True)
    (objects / ("ab" + "0" * 62 + ".deadbeef")).write_bytes(b"half a put")
    (objects / ".meta.json.0123").write_bytes(b"{")
    (tmp_path / "bkt" / "uploads" / upload / ".part-1.0123").write_bytes(b"half a part")
    restarted = FileBlobs(tmp_path)
    assert [o.key for o in (await restarted.list_objects("bkt")).objects] == ["kept"]
    assert set(leftovers(tmp_path)) == kept


async def test_a_part_sent_again_while_the_completion_joins_does_not_change_the_object(
    tmp_path: Path,
) -> None:
    """The completion chose part 2's record (and made the ETag from it): the object has those
    bytes, even when part 2 is replaced while the join is still copying part 1."""
    store = FileBlobs(tmp_path)
    await store.create_bucket("bkt")
    upload = await store.create_upload("bkt", "k")
    first = b"1" * (32 * 1024 * 1024)  # long enough to copy that the re-send lands meanwhile
    one = await store.upload_part("bkt", "k", upload, 1, chunks(first))
    two = await store.upload_part("bkt", "k", upload, 2, chunks(b"old"))
    completing = asyncio.ensure_future(
        store.complete_upload("bkt", "k", upload, [(1, one.etag), (2, two.etag)])
    )
    await asyncio.sleep(0)  # one turn: the completion chose its parts and is joining them
    await store.upload_part("bkt", "k", upload, 2, chunks(b"new"))
    info = await completing
    _, body = await store.read("bkt", "k")
    assert b"".join([piece async for piece in body])[-3:] == b"old"
    assert info.size == len(first) + 3


def test_opened_parts_are_joined_as_they_were_when_opened(tmp_path: Path) -> None:
    from skylet.blobs.base import PartInfo
    from skylet.blobs.file_data import join_parts, open_parts

    (tmp_path / "part-00001").write_bytes(b"first send")
    pieces = open_parts(tmp_path, [PartInfo(1, 10, "e", 0.0)])
    (tmp_path / ".part-1.tmp").write_bytes(b"second send")
    (tmp_path / ".part-1.tmp").replace(tmp_path / "part-00001")  # as upload_part replaces it
    join_parts(pieces, tmp_path / "joined")
    assert (tmp_path / "joined").read_bytes() == b"first send"
    assert all(piece.closed for piece in pieces)
