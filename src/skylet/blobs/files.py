"""The filesystem blob store: skylet's default, under ``.skylet/blobs``.

Layout, per bucket ``<root>/<bucket>/``:
- ``bucket.json``: creation time, public flag;
- ``objects/<h2>/<h>.json``: an object's metadata (key, size, ETag, type, user metadata) and the
  name of its data file ``objects/<h2>/<h>.<version>``, where ``h`` is the SHA-256 of the key.
  Hashing maps any UTF-8 key (up to 1024 bytes) to a safe name: no traversal, no collisions
  between ``a/b`` and ``a%2Fb``, no limits from the filesystem's name rules.
- ``uploads/<upload id>/``: a multipart upload's ``upload.json`` and its parts.

A write streams into a temporary file, then renames it into place and atomically replaces the
metadata file that names it: readers see the old object or the new one, never a mixture, and a
``kill -9`` at any moment leaves at most an orphaned temporary file. Listing uses an in-memory
index of each bucket, loaded from the metadata files on first use.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import re
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import asdict
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skylet.blobs.base import (
    BucketInfo,
    ByteRange,
    Chunks,
    Listing,
    ObjectInfo,
    PartInfo,
    check_bucket_name,
    no_such_bucket,
    no_such_key,
    no_such_upload,
)
from skylet.errors import S3Error

MAX_KEY_BYTES = 1024
MIN_PART_BYTES = 5 * 1024 * 1024
READ_CHUNK = 256 * 1024


def check_key(key: str) -> None:
    if not key:
        raise S3Error("InvalidArgument", "An object key must not be empty.", 400)
    if len(key.encode()) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", 400, Key=key[:64])


class FileBlobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._index: dict[str, dict[str, ObjectInfo]] = {}

    # -- buckets -------------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        check_bucket_name(bucket)
        return self.root / bucket

    def _head_bucket(self, bucket: str) -> BucketInfo:
        try:
            raw = json.loads((self._bucket_dir(bucket) / "bucket.json").read_bytes())
        except FileNotFoundError:
            raise no_such_bucket(bucket) from None
        return BucketInfo(bucket, float(raw["created"]))

    async def create_bucket(self, bucket: str, *, exist_ok: bool = False) -> None:
        directory = self._bucket_dir(bucket)
        if (directory / "bucket.json").exists():
            if exist_ok:
                return
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
                409,
                BucketName=bucket,
            )
        (directory / "objects").mkdir(parents=True, exist_ok=True)
        (directory / "uploads").mkdir(exist_ok=True)
        _write_json(directory / "bucket.json", {"created": time.time()})

    async def list_buckets(self) -> list[BucketInfo]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and (entry / "bucket.json").exists():
                with contextlib.suppress(S3Error):
                    found.append(self._head_bucket(entry.name))
        return found

    async def delete_bucket(self, bucket: str) -> None:
        self._head_bucket(bucket)
        if self._objects(bucket):
            raise S3Error(
                "BucketNotEmpty",
                "The bucket you tried to delete is not empty",
                409,
                BucketName=bucket,
            )
        shutil.rmtree(self._bucket_dir(bucket))
        self._index.pop(bucket, None)

    # -- objects -------------------------------------------------------------------------------

    def _paths(self, bucket: str, key: str) -> tuple[Path, str]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._bucket_dir(bucket) / "objects" / digest[:2], digest

    def _objects(self, bucket: str) -> dict[str, ObjectInfo]:
        index = self._index.get(bucket)
        if index is None:
            self._head_bucket(bucket)
            index = {}
            for meta in (self._bucket_dir(bucket) / "objects").glob("*/*.json"):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    info = _info(json.loads(meta.read_bytes()))
                    index[info.key] = info
            self._index[bucket] = index
        return index

    async def put(
        self,
        bucket: str,
        key: str,
        chunks: Chunks,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        content_md5: str | None = None,
    ) -> ObjectInfo:
        """Store an object from ``chunks``; the digest and size are computed while streaming."""
        check_key(key)
        self._head_bucket(bucket)
        directory, digest = self._paths(bucket, key)
        directory.mkdir(parents=True, exist_ok=True)
        version = uuid.uuid4().hex
        data = directory / f"{digest}.{version}"
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            # Chunks go to the page cache as they arrive: a write is microseconds, cheaper than a
            # thread hop per chunk, and the event loop never holds more than one chunk.
            with open(data, "wb") as out:  # noqa: ASYNC230
                async for chunk in chunks:
                    out.write(chunk)
                    md5.update(chunk)
                    size += len(chunk)
            if content_md5 is not None and content_md5 != _b64(md5.digest()):
                raise S3Error(
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                    400,
                )
        except BaseException:
            data.unlink(missing_ok=True)
            raise
        info = ObjectInfo(
            key=key,
            size=size,
            etag=md5.hexdigest(),
            last_modified=time.time(),
            content_type=content_type or "binary/octet-stream",
            metadata=MappingProxyType(dict(metadata or {})),
            headers=MappingProxyType(dict(headers or {})),
        )
        self._commit(bucket, info, directory, digest, data.name)
        return info

    def _commit(
        self, bucket: str, info: ObjectInfo, directory: Path, digest: str, data: str
    ) -> None:
        meta = directory / f"{digest}.json"
        old = _data_name(meta)
        _write_json(
            meta,
            {
                "key": info.key,
                "size": info.size,
                "etag": info.etag,
                "last_modified": info.last_modified,
                "content_type": info.content_type,
                "metadata": dict(info.metadata),
                "headers": dict(info.headers),
                "data": data,
            },
        )
        if old is not None and old != data:
            (directory / old).unlink(missing_ok=True)
        self._objects(bucket)[info.key] = info

    def _head(self, bucket: str, key: str) -> ObjectInfo:
        info = self._objects(bucket).get(key)
        if info is None:
            raise no_such_key(key)
        return info

    def _open(self, bucket: str, key: str) -> tuple[ObjectInfo, Any]:
        """The object's info and an open binary file of its data (the caller closes it)."""
        for _ in range(3):  # a concurrent overwrite may remove the data file between the reads
            info = self._head(bucket, key)
            directory, digest = self._paths(bucket, key)
            name = _data_name(directory / f"{digest}.json")
            if name is None:
                raise no_such_key(key)
            try:
                return info, open(directory / name, "rb")
            except FileNotFoundError:
                continue
        raise no_such_key(key)

    async def delete(self, bucket: str, key: str) -> bool:
        """Remove ``key``; False when it did not exist (which S3 does not report as an error)."""
        index = self._objects(bucket)
        if key not in index:
            return False
        directory, digest = self._paths(bucket, key)
        meta = directory / f"{digest}.json"
        name = _data_name(meta)
        meta.unlink(missing_ok=True)
        if name is not None:
            (directory / name).unlink(missing_ok=True)
        del index[key]
        return True

    async def copy(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        replace_metadata: bool = False,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> ObjectInfo:
        source, handle = self._open(source_bucket, source_key)
        if replace_metadata:
            chosen_type, chosen_meta = content_type, metadata
        else:
            chosen_type, chosen_meta = source.content_type, source.metadata
        return await self.put(
            bucket,
            key,
            _stream(handle, None),
            content_type=chosen_type,
            metadata=chosen_meta,
            headers=source.headers,
        )

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        max_keys: int = 1000,
    ) -> Listing:
        """Keys after ``start_after`` in UTF-8 binary order, rolled up at ``delimiter``."""
        keys = sorted(
            (k for k in self._objects(bucket) if k.startswith(prefix)), key=lambda k: k.encode()
        )
        objects: list[ObjectInfo] = []
        prefixes: list[str] = []
        last = ""
        index = self._objects(bucket)
        bound = start_after.encode()
        for key in keys:
            if key.encode() <= bound:
                continue
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    common = key[: cut + len(delimiter)]
                    if prefixes and prefixes[-1] == common:
                        continue
                    if common.encode() <= bound:
                        continue
                    if len(objects) + len(prefixes) >= max_keys:
                        return Listing(tuple(objects), tuple(prefixes), True, last)
                    prefixes.append(common)
                    last = common
                    continue
            if len(objects) + len(prefixes) >= max_keys:
                return Listing(tuple(objects), tuple(prefixes), True, last)
            objects.append(index[key])
            last = key
        return Listing(tuple(objects), tuple(prefixes), False, None)

    # -- multipart -----------------------------------------------------------------------------

    def _upload_dir(self, bucket: str, upload_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise no_such_upload(upload_id)
        return self._bucket_dir(bucket) / "uploads" / upload_id

    def _upload(self, bucket: str, key: str, upload_id: str) -> dict[str, Any]:
        self._head_bucket(bucket)
        try:
            raw: dict[str, Any] = json.loads(
                (self._upload_dir(bucket, upload_id) / "upload.json").read_bytes()
            )
        except FileNotFoundError:
            raise no_such_upload(upload_id) from None
        if raw["key"] != key:
            raise no_such_upload(upload_id)
        return raw

    async def create_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        check_key(key)
        self._head_bucket(bucket)
        upload_id = uuid.uuid4().hex
        directory = self._upload_dir(bucket, upload_id)
        directory.mkdir(parents=True)
        _write_json(
            directory / "upload.json",
            {
                "key": key,
                "content_type": content_type,
                "metadata": dict(metadata or {}),
                "headers": dict(headers or {}),
                "initiated": time.time(),
            },
        )
        return upload_id

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, chunks: Chunks
    ) -> PartInfo:
        if not 1 <= number <= 10_000:
            raise S3Error(
                "InvalidArgument", "Part number must be an integer between 1 and 10000", 400
            )
        self._upload(bucket, key, upload_id)
        directory = self._upload_dir(bucket, upload_id)
        temp = directory / f".part-{number}.{uuid.uuid4().hex}"
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with open(temp, "wb") as out:  # noqa: ASYNC230 - as in put
                async for chunk in chunks:
                    out.write(chunk)
                    md5.update(chunk)
                    size += len(chunk)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        part = PartInfo(number, size, md5.hexdigest(), time.time())
        temp.replace(directory / f"part-{number:05d}")
        _write_json(directory / f"part-{number:05d}.json", asdict(part))
        return part

    def _list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        self._upload(bucket, key, upload_id)
        directory = self._upload_dir(bucket, upload_id)
        parts = []
        for meta in sorted(directory.glob("part-*.json")):
            raw = json.loads(meta.read_bytes())
            parts.append(PartInfo(**raw))
        return parts

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._upload(bucket, key, upload_id)
        shutil.rmtree(self._upload_dir(bucket, upload_id), ignore_errors=True)

    async def complete_upload(
        self, bucket: str, key: str, upload_id: str, wanted: list[tuple[int, str]]
    ) -> ObjectInfo:
        """Join the listed parts (number, ETag) into the object; ETag ``md5(md5s)-N``."""
        upload = self._upload(bucket, key, upload_id)
        if not wanted:
            raise S3Error(
                "MalformedXML",
                "The XML you provided was not well-formed or did not validate against our "
                "published schema",
                400,
            )
        numbers = [n for n, _ in wanted]
        if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
            raise S3Error(
                "InvalidPartOrder",
                "The list of parts was not in ascending order. Parts must be ordered by part "
                "number.",
                400,
                UploadId=upload_id,
            )
        have = {p.number: p for p in self._list_parts(bucket, key, upload_id)}
        chosen: list[PartInfo] = []
        for number, etag in wanted:
            part = have.get(number)
            if part is None or etag.strip('"') != part.etag:
                raise S3Error(
                    "InvalidPart",
                    "One or more of the specified parts could not be found. The part may not "
                    "have been uploaded, or the specified entity tag may not match the part's "
                    "entity tag.",
                    400,
                    UploadId=upload_id,
                    PartNumber=str(number),
                )
            chosen.append(part)
        for part in chosen[:-1]:
            if part.size < MIN_PART_BYTES:
                raise S3Error(
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed object size.",
                    400,
                    ProposedSize=str(part.size),
                    MinSizeAllowed=str(MIN_PART_BYTES),
                    PartNumber=str(part.number),
                )
        source = self._upload_dir(bucket, upload_id)
        directory, digest = self._paths(bucket, key)
        directory.mkdir(parents=True, exist_ok=True)
        data = directory / f"{digest}.{uuid.uuid4().hex}"
        # Joining parts copies up to gigabytes: in a thread, not on the event loop.
        await asyncio.to_thread(_join_parts, source, chosen, data)
        combined = hashlib.md5(usedforsecurity=False)
        for part in chosen:
            combined.update(bytes.fromhex(part.etag))
        info = ObjectInfo(
            key=key,
            size=sum(p.size for p in chosen),
            etag=f"{combined.hexdigest()}-{len(chosen)}",
            last_modified=time.time(),
            content_type=upload.get("content_type") or "binary/octet-stream",
            metadata=MappingProxyType(dict(upload.get("metadata") or {})),
            headers=MappingProxyType(dict(upload.get("headers") or {})),
        )
        self._commit(bucket, info, directory, digest, data.name)
        shutil.rmtree(source, ignore_errors=True)
        return info

    # -- the BlobStore interface: the work above is local and quick, so it runs inline ------

    async def head_bucket(self, bucket: str) -> BucketInfo:
        return self._head_bucket(bucket)

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        return self._head(bucket, key)

    async def read(
        self, bucket: str, key: str, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Chunks]:
        info, handle = self._open(bucket, key)
        return info, _stream(handle, byte_range)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        return self._list_parts(bucket, key, upload_id)


def _join_parts(source: Path, parts: list[PartInfo], target: Path) -> None:
    with open(target, "wb") as out:
        for part in parts:
            with open(source / f"part-{part.number:05d}", "rb") as piece:
                shutil.copyfileobj(piece, out, READ_CHUNK)


async def _stream(handle: Any, byte_range: ByteRange | None) -> AsyncIterator[bytes]:
    with handle:
        remaining = None
        if byte_range is not None:
            handle.seek(byte_range.first)
            remaining = byte_range.length
        while remaining is None or remaining > 0:
            size = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
            chunk = handle.read(size)
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _info(raw: Mapping[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        key=raw["key"],
        size=int(raw["size"]),
        etag=raw["etag"],
        last_modified=float(raw["last_modified"]),
        content_type=raw.get("content_type") or "binary/octet-stream",
        metadata=MappingProxyType(dict(raw.get("metadata") or {})),
        headers=MappingProxyType(dict(raw.get("headers") or {})),
    )


def _data_name(meta: Path) -> str | None:
    try:
        return str(json.loads(meta.read_bytes())["data"])
    except (OSError, ValueError, KeyError):
        return None


def _write_json(path: Path, value: Mapping[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    temp.write_bytes(json.dumps(value).encode())
    temp.replace(path)
