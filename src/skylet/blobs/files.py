"""The filesystem blob store: skylet's default, under ``.skylet/blobs``.

Layout, per bucket ``<root>/<bucket>/``:
- ``bucket.json``: creation time, owner, canned ACL;
- ``objects/<h2>/<h>.json``: an object's metadata (key, size, ETag, type, user metadata,
  checksum, parts, owner, ACL) and the name of its data file ``objects/<h2>/<h>.<version>``,
  where ``h`` is the SHA-256 of the key. Hashing maps any UTF-8 key (up to 1024 bytes) to a
  safe name: no traversal, no collisions between ``a/b`` and ``a%2Fb``, no limits from the
  filesystem's name rules.
- ``uploads/<upload id>/``: a multipart upload's ``upload.json`` and its parts; once completed,
  only ``completed.json`` (so that a repeated completion answers the same object).

A write streams into a temporary file, then atomically replaces the metadata file that names
it: readers see the old object or the new one, never a mixture. A ``kill -9`` mid-write leaves
a data or part file that nothing names: the first use of the bucket in the next process
reclaims them (:meth:`FileBlobs._reclaim`). Listing uses a sorted in-memory index of each
bucket (keys in UTF-8 order), loaded from the metadata files on first use: a page costs
O(log n + page), whatever the bucket's size.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sortedcontainers import SortedDict

from skylet.blobs.base import (
    NO_CONDITIONS,
    BucketInfo,
    ByteRange,
    Checksum,
    Chunks,
    Listing,
    ObjectInfo,
    PartInfo,
    UploadInfo,
    UploadListing,
    WriteConditions,
    bucket_already_owned,
    check_bucket_name,
    no_such_bucket,
    no_such_key,
    no_such_upload,
)
from skylet.blobs.file_data import choose_parts, join_parts, open_parts, receive, stream_range
from skylet.blobs.file_records import (
    data_name,
    object_of,
    object_record,
    part_of,
    part_record,
    upload_of,
    write_json,
)
from skylet.blobs.file_uploads import UploadIndex, completion_of, mark_completed
from skylet.blobs.listing import page
from skylet.errors import S3Error

MAX_KEY_BYTES = 1024
#: A completed upload's record is kept this long for repeated completions, then reclaimed.
COMPLETED_KEEP_S = 24 * 3600


def check_key(key: str) -> None:
    if not key:
        raise S3Error("InvalidArgument", "An object key must not be empty.", 400)
    if len(key.encode()) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", 400, Key=key[:64])


class FileBlobs:
    def __init__(self, root: Path) -> None:
        self.root = root
        #: bucket → UTF-8 key bytes → info, in UTF-8 binary order (S3's listing order).
        self._index: dict[str, SortedDict] = {}
        #: Data and part files being written now: never reclaimed as orphans.
        self._writing: set[Path] = set()
        self._uploads = UploadIndex()

    # -- buckets -------------------------------------------------------------------------------

    def _bucket_dir(self, bucket: str) -> Path:
        check_bucket_name(bucket)
        return self.root / bucket

    def _head_bucket(self, bucket: str) -> BucketInfo:
        try:
            raw = json.loads((self._bucket_dir(bucket) / "bucket.json").read_bytes())
        except FileNotFoundError:
            raise no_such_bucket(bucket) from None
        return BucketInfo(
            bucket,
            float(raw["created"]),
            owner=str(raw.get("owner", "")),
            acl=str(raw.get("acl", "private")),
        )

    async def create_bucket(
        self, bucket: str, *, exist_ok: bool = False, owner: str = "", acl: str = "private"
    ) -> None:
        directory = self._bucket_dir(bucket)
        if (directory / "bucket.json").exists():
            if exist_ok:
                return
            raise bucket_already_owned(bucket)
        (directory / "objects").mkdir(parents=True, exist_ok=True)
        (directory / "uploads").mkdir(exist_ok=True)
        write_json(directory / "bucket.json", {"created": time.time(), "owner": owner, "acl": acl})

    async def set_bucket_acl(self, bucket: str, acl: str) -> None:
        info = self._head_bucket(bucket)
        record = {"created": info.created, "owner": info.owner, "acl": acl}
        write_json(self._bucket_dir(bucket) / "bucket.json", record)

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
        shutil.rmtree(self._bucket_dir(bucket), ignore_errors=True)
        self._index.pop(bucket, None)
        self._uploads.forget(bucket)

    # -- objects -------------------------------------------------------------------------------

    def _paths(self, bucket: str, key: str) -> tuple[Path, str]:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self._bucket_dir(bucket) / "objects" / digest[:2], digest

    def _objects(self, bucket: str) -> SortedDict:
        index = self._index.get(bucket)
        if index is None:
            self._head_bucket(bucket)
            index = SortedDict()
            named: set[Path] = set()
            for meta in (self._bucket_dir(bucket) / "objects").glob("*/*.json"):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    raw = json.loads(meta.read_bytes())
                    info = object_of(raw)
                    index[info.key.encode()] = info
                    named.add(meta.with_name(str(raw["data"])))
            self._index[bucket] = index
            self._reclaim(bucket, named)
        return index

    def _reclaim(self, bucket: str, named: set[Path]) -> None:
        """Remove what an interrupted write left behind (a ``kill -9`` mid-PUT, mid-part or
        mid-completion): data files no metadata names, temporary files, parts being written,
        old completion records. Files being written by this process are kept."""
        directory = self._bucket_dir(bucket)
        for path in (directory / "objects").glob("*/*"):
            temporary = path.suffix != ".json" or path.name.startswith(".")
            if temporary and path not in named and path not in self._writing:
                path.unlink(missing_ok=True)
        now = time.time()
        for path in (directory / "uploads").glob("*/*"):
            if path.name.startswith(".") and path not in self._writing:
                path.unlink(missing_ok=True)
            elif path.name == "completed.json":
                with contextlib.suppress(OSError):
                    if now - path.stat().st_mtime > COMPLETED_KEEP_S:
                        shutil.rmtree(path.parent, ignore_errors=True)

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
        checksum: Callable[[], Checksum | None] | None = None,
        conditions: WriteConditions = NO_CONDITIONS,
        owner: str = "",
        acl: str = "private",
    ) -> ObjectInfo:
        """Store an object from ``chunks``; the digest and size are computed while streaming."""
        check_key(key)
        self._objects(bucket)  # loaded (and orphans reclaimed) before this write makes a file
        directory, digest = self._paths(bucket, key)
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            directory.mkdir()  # not parents: a bucket deleted meanwhile is not made again
        data = directory / f"{digest}.{uuid.uuid4().hex}"
        self._writing.add(data)
        try:
            size, md5 = await receive(data, chunks, lambda: no_such_bucket(bucket))
            if content_md5 is not None and content_md5 != _b64(md5.digest()):
                raise S3Error(
                    "BadDigest",
                    "The Content-MD5 you specified did not match what we received.",
                    400,
                )
            info = ObjectInfo(
                key=key,
                size=size,
                etag=md5.hexdigest(),
                last_modified=time.time(),
                content_type=content_type or "binary/octet-stream",
                metadata=MappingProxyType(dict(metadata or {})),
                headers=MappingProxyType(dict(headers or {})),
                checksum=checksum() if checksum is not None else None,
                owner=owner,
                acl=acl,
            )
            self._commit(bucket, info, directory, digest, data.name, conditions)
        except BaseException:
            data.unlink(missing_ok=True)
            raise
        finally:
            self._writing.discard(data)
        return info

    def _commit(
        self,
        bucket: str,
        info: ObjectInfo,
        directory: Path,
        digest: str,
        data: str,
        conditions: WriteConditions,
    ) -> None:
        """Make ``info`` (its bytes in ``data``) the object: synchronous, so the conditions and
        the replacement are one step for every other request of this process."""
        index = self._objects(bucket)
        conditions.check(index.get(info.key.encode()), info.key)
        meta = directory / f"{digest}.json"
        old = data_name(meta)
        try:
            write_json(meta, object_record(info, data))
        except FileNotFoundError:
            raise no_such_bucket(bucket) from None
        if old is not None and old != data:
            (directory / old).unlink(missing_ok=True)
        index[info.key.encode()] = info

    def _head(self, bucket: str, key: str) -> ObjectInfo:
        info: ObjectInfo | None = self._objects(bucket).get(key.encode())
        if info is None:
            raise no_such_key(key)
        return info

    def _open(self, bucket: str, key: str) -> tuple[ObjectInfo, Any]:
        """The object's info and an open binary file of its data (the caller closes it)."""
        for _ in range(3):  # a concurrent overwrite may remove the data file between the reads
            info = self._head(bucket, key)
            directory, digest = self._paths(bucket, key)
            name = data_name(directory / f"{digest}.json")
            if name is None:
                raise no_such_key(key)
            try:
                return info, open(directory / name, "rb")
            except FileNotFoundError:
                continue
        raise no_such_key(key)

    async def delete(
        self, bucket: str, key: str, conditions: WriteConditions = NO_CONDITIONS
    ) -> bool:
        """Remove ``key``; False when it did not exist (which S3 does not report as an error)."""
        index = self._objects(bucket)
        current = index.get(key.encode())
        conditions.check(current, key, deleting=True)
        if current is None:
            return False
        directory, digest = self._paths(bucket, key)
        meta = directory / f"{digest}.json"
        name = data_name(meta)
        meta.unlink(missing_ok=True)
        if name is not None:
            (directory / name).unlink(missing_ok=True)
        del index[key.encode()]
        return True

    async def set_object_acl(self, bucket: str, key: str, acl: str) -> None:
        info = self._head(bucket, key)
        directory, digest = self._paths(bucket, key)
        name = data_name(directory / f"{digest}.json")
        if name is None:
            raise no_such_key(key)
        changed = dataclasses.replace(info, acl=acl)
        write_json(directory / f"{digest}.json", object_record(changed, name))
        self._objects(bucket)[key.encode()] = changed

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
        owner: str = "",
        acl: str = "private",
    ) -> ObjectInfo:
        source, handle = self._open(source_bucket, source_key)
        if replace_metadata:
            chosen_type, chosen_meta = content_type, metadata
        else:
            chosen_type, chosen_meta = source.content_type, source.metadata
        return await self.put(
            bucket,
            key,
            stream_range(handle, None),
            content_type=chosen_type,
            metadata=chosen_meta,
            headers=source.headers,
            checksum=lambda: source.checksum if not source.parts else None,
            owner=owner,
            acl=acl,
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
        return page(self._objects(bucket), prefix, delimiter, start_after, max_keys)

    # -- multipart -----------------------------------------------------------------------------

    def _upload_dir(self, bucket: str, upload_id: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
            raise no_such_upload(upload_id)
        return self._bucket_dir(bucket) / "uploads" / upload_id

    def _upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        self._head_bucket(bucket)
        try:
            raw = json.loads((self._upload_dir(bucket, upload_id) / "upload.json").read_bytes())
        except FileNotFoundError:
            raise no_such_upload(upload_id) from None
        if raw["key"] != key:
            raise no_such_upload(upload_id)
        return upload_of(raw, upload_id)

    async def create_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        owner: str = "",
        acl: str = "private",
    ) -> str:
        check_key(key)
        self._head_bucket(bucket)
        upload_id = self._uploads.new_id()
        directory = self._upload_dir(bucket, upload_id)
        try:
            directory.mkdir()
        except FileNotFoundError:
            raise no_such_bucket(bucket) from None
        record = {
            "key": key,
            "content_type": content_type,
            "metadata": dict(metadata or {}),
            "headers": dict(headers or {}),
            "initiated": time.time(),
            "checksum_algorithm": checksum_algorithm,
            "checksum_type": checksum_type,
            "owner": owner,
            "acl": acl,
        }
        write_json(directory / "upload.json", record)
        self._uploads.add(bucket, directory.parent, upload_of(record, upload_id))
        return upload_id

    async def list_uploads(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        key_marker: str = "",
        upload_id_marker: str = "",
        max_uploads: int = 1000,
    ) -> UploadListing:
        self._head_bucket(bucket)
        return self._uploads.page(
            bucket,
            self._bucket_dir(bucket) / "uploads",
            prefix=prefix,
            delimiter=delimiter,
            key_marker=key_marker,
            upload_id_marker=upload_id_marker,
            max_uploads=max_uploads,
        )

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        return self._upload(bucket, key, upload_id)

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        chunks: Chunks,
        checksum: Callable[[], Checksum | None] | None = None,
    ) -> PartInfo:
        if not 1 <= number <= 10_000:
            raise S3Error(
                "InvalidArgument", "Part number must be an integer between 1 and 10000", 400
            )
        self._objects(bucket)
        self._upload(bucket, key, upload_id)
        directory = self._upload_dir(bucket, upload_id)
        temp = directory / f".part-{number}.{uuid.uuid4().hex}"
        self._writing.add(temp)
        try:
            size, md5 = await receive(temp, chunks, lambda: no_such_upload(upload_id))
            part = PartInfo(
                number, size, md5.hexdigest(), time.time(), checksum() if checksum else None
            )
            temp.replace(directory / f"part-{number:05d}")
            write_json(directory / f"part-{number:05d}.json", part_record(part))
        except FileNotFoundError:  # aborted while the part was being written
            temp.unlink(missing_ok=True)
            raise no_such_upload(upload_id) from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        finally:
            self._writing.discard(temp)
        return part

    def _list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        self._upload(bucket, key, upload_id)
        directory = self._upload_dir(bucket, upload_id)
        parts = []
        for meta in sorted(directory.glob("part-*.json")):
            with contextlib.suppress(FileNotFoundError):
                parts.append(part_of(json.loads(meta.read_bytes())))
        return parts

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self._upload(bucket, key, upload_id)
        shutil.rmtree(self._upload_dir(bucket, upload_id), ignore_errors=True)
        self._uploads.remove(bucket, key, upload_id)

    async def complete_upload(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        wanted: list[tuple[int, str]],
        *,
        checksum: Callable[[UploadInfo, list[PartInfo]], Checksum | None] | None = None,
        conditions: WriteConditions = NO_CONDITIONS,
    ) -> ObjectInfo:
        """Join the listed parts (number, ETag) into the object; ETag ``md5(md5s)-N``."""
        source = self._upload_dir(bucket, upload_id)
        again = self._completed(bucket, key, upload_id, wanted)
        if again is not None:
            return again
        self._objects(bucket)
        upload = self._upload(bucket, key, upload_id)
        chosen = choose_parts(upload_id, wanted, self._list_parts(bucket, key, upload_id))
        object_checksum = checksum(upload, chosen) if checksum is not None else None
        directory, digest = self._paths(bucket, key)
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            directory.mkdir()
        data = directory / f"{digest}.{uuid.uuid4().hex}"
        self._writing.add(data)
        try:
            pieces = open_parts(source, chosen)
            # Joining parts copies up to gigabytes: in a thread, not on the event loop.
            await asyncio.to_thread(join_parts, pieces, data)
            combined = hashlib.md5(usedforsecurity=False)
            for part in chosen:
                combined.update(bytes.fromhex(part.etag))
            info = ObjectInfo(
                key=key,
                size=sum(p.size for p in chosen),
                etag=f"{combined.hexdigest()}-{len(chosen)}",
                last_modified=time.time(),
                content_type=upload.content_type or "binary/octet-stream",
                metadata=upload.metadata,
                headers=upload.headers,
                checksum=object_checksum,
                parts=tuple(p.size for p in chosen),
                part_checksums=_part_checksums(object_checksum, chosen),
                owner=upload.owner,
                acl=upload.acl,
            )
            self._upload(bucket, key, upload_id)  # not aborted meanwhile
            self._commit(bucket, info, directory, digest, data.name, conditions)
            self._uploads.remove(bucket, key, upload_id)
        except FileNotFoundError:  # aborted (or the bucket deleted) while joining
            data.unlink(missing_ok=True)
            raise no_such_upload(upload_id) from None
        except BaseException:
            data.unlink(missing_ok=True)
            raise
        finally:
            self._writing.discard(data)
        mark_completed(source, info, wanted)
        return info

    def _completed(
        self, bucket: str, key: str, upload_id: str, wanted: list[tuple[int, str]]
    ) -> ObjectInfo | None:
        """The object a finished upload made, when the same completion is asked again (and
        the object is still the one it made), as S3 answers a retried completion."""
        made = completion_of(self._upload_dir(bucket, upload_id))
        if made is None:
            return None
        current = self._objects(bucket).get(key.encode())
        if not made.same(key, wanted) or current is None or current.etag != made.etag:
            raise no_such_upload(upload_id)
        result: ObjectInfo = current
        return result

    # -- the BlobStore interface: the work above is local and quick, so it runs inline ------

    async def head_bucket(self, bucket: str) -> BucketInfo:
        return self._head_bucket(bucket)

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        return self._head(bucket, key)

    async def read(
        self, bucket: str, key: str, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Chunks]:
        info, handle = self._open(bucket, key)
        return info, stream_range(handle, byte_range)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        return self._list_parts(bucket, key, upload_id)


def _part_checksums(whole: Checksum | None, parts: list[PartInfo]) -> tuple[str, ...]:
    """The parts' checksums an object keeps: all of them, when the object has a checksum made
    from them (which needs every part to carry one of its algorithm)."""
    if whole is None:
        return ()
    return tuple(p.checksum.value for p in parts if p.checksum is not None)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()
