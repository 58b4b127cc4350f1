"""The file store's multipart uploads: upload ids that sort by creation, each bucket's sorted
index of its uploads in progress (ListMultipartUploads), loaded from their records on first use
and then kept as uploads start and end, and the record a completed upload leaves for a repeated
completion (skylet.blobs.files)."""

from __future__ import annotations

import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from sortedcontainers import SortedDict

from skylet.blobs.base import ObjectInfo, UploadInfo, UploadListing
from skylet.blobs.file_records import upload_of, write_json
from skylet.blobs.listing import upload_page


class UploadIndex:
    """Each bucket's uploads in progress: (UTF-8 key bytes, upload id) → :class:`UploadInfo`."""

    def __init__(self) -> None:
        self._buckets: dict[str, SortedDict] = {}
        self._last_ns = 0

    def new_id(self) -> str:
        """32 hex digits: nanoseconds since the epoch (16 digits, enough until the year 2554),
        strictly increasing in this process, then 64 random bits. Ids sort as their uploads
        started, which is how S3 orders one key's uploads, so an upload-id-marker is a
        position in that order."""
        self._last_ns = max(time.time_ns(), self._last_ns + 1)
        return f"{self._last_ns:016x}{secrets.token_hex(8)}"

    def _loaded(self, bucket: str, uploads: Path) -> SortedDict:
        index = self._buckets.get(bucket)
        if index is None:
            index = SortedDict()
            for record in uploads.glob("*/upload.json"):
                with contextlib.suppress(OSError, ValueError, KeyError):
                    info = upload_of(json.loads(record.read_bytes()), record.parent.name)
                    index[(info.key.encode(), info.upload_id)] = info
            self._buckets[bucket] = index
        return index

    def add(self, bucket: str, uploads: Path, info: UploadInfo) -> None:
        self._loaded(bucket, uploads)[(info.key.encode(), info.upload_id)] = info

    def remove(self, bucket: str, key: str, upload_id: str) -> None:
        index = self._buckets.get(bucket)
        if index is not None:
            index.pop((key.encode(), upload_id), None)

    def forget(self, bucket: str) -> None:
        self._buckets.pop(bucket, None)

    def page(
        self,
        bucket: str,
        uploads: Path,
        *,
        prefix: str,
        delimiter: str,
        key_marker: str,
        upload_id_marker: str,
        max_uploads: int,
    ) -> UploadListing:
        index = self._loaded(bucket, uploads)
        return upload_page(index, prefix, delimiter, key_marker, upload_id_marker, max_uploads)


@dataclass(frozen=True, slots=True)
class Completion:
    """What a completed upload made: its key, the object's ETag and the parts it listed."""

    key: str
    etag: str
    parts: tuple[tuple[int, str], ...]

    def same(self, key: str, wanted: list[tuple[int, str]]) -> bool:
        """Whether a completion asks again for what this one did (ETags quoted or not)."""
        asked = tuple((n, e.strip('"')) for n, e in wanted)
        return key == self.key and asked == tuple((n, e.strip('"')) for n, e in self.parts)


def mark_completed(upload: Path, info: ObjectInfo, wanted: list[tuple[int, str]]) -> None:
    """Leave only ``completed.json`` in the upload's directory: written first under a
    temporary name, so that a crash leaves the upload or its completion, never neither."""
    record = {"key": info.key, "etag": info.etag, "parts": [list(w) for w in wanted]}
    write_json(upload / ".completed.json", record)
    for path in upload.iterdir():
        if path.name != ".completed.json":
            path.unlink(missing_ok=True)
    (upload / ".completed.json").replace(upload / "completed.json")


def completion_of(upload: Path) -> Completion | None:
    """The completion an upload's directory records; None when it has none."""
    try:
        raw = json.loads((upload / "completed.json").read_bytes())
    except (FileNotFoundError, ValueError):
        return None
    parts = tuple((int(n), str(e)) for n, e in raw["parts"])
    return Completion(str(raw["key"]), str(raw["etag"]), parts)
