"""The filesystem blob store's records on disk: an object's and a part's JSON metadata, and
how a record file is written atomically (skylet.blobs.files)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from skylet.blobs.base import Checksum, ObjectInfo, PartInfo, UploadInfo


def checksum_record(checksum: Checksum | None) -> list[str] | None:
    return None if checksum is None else [checksum.algorithm, checksum.value, checksum.type]


def checksum_of(raw: Any) -> Checksum | None:
    return None if not raw else Checksum(str(raw[0]), str(raw[1]), str(raw[2]))


def object_record(info: ObjectInfo, data: str) -> dict[str, Any]:
    return {
        "key": info.key,
        "size": info.size,
        "etag": info.etag,
        "last_modified": info.last_modified,
        "content_type": info.content_type,
        "metadata": dict(info.metadata),
        "headers": dict(info.headers),
        "checksum": checksum_record(info.checksum),
        "parts": list(info.parts),
        "part_checksums": list(info.part_checksums),
        "owner": info.owner,
        "acl": info.acl,
        "data": data,
    }


def object_of(raw: Mapping[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        key=raw["key"],
        size=int(raw["size"]),
        etag=raw["etag"],
        last_modified=float(raw["last_modified"]),
        content_type=raw.get("content_type") or "binary/octet-stream",
        metadata=MappingProxyType(dict(raw.get("metadata") or {})),
        headers=MappingProxyType(dict(raw.get("headers") or {})),
        checksum=checksum_of(raw.get("checksum")),
        parts=tuple(int(n) for n in raw.get("parts") or ()),
        part_checksums=tuple(str(v) for v in raw.get("part_checksums") or ()),
        owner=str(raw.get("owner", "")),
        acl=str(raw.get("acl", "private")),
    )


def upload_of(raw: Mapping[str, Any], upload_id: str) -> UploadInfo:
    """An upload's record (``uploads/<id>/upload.json``) as its :class:`UploadInfo`."""
    return UploadInfo(
        upload_id,
        str(raw["key"]),
        float(raw["initiated"]),
        raw.get("content_type"),
        MappingProxyType(dict(raw.get("metadata") or {})),
        MappingProxyType(dict(raw.get("headers") or {})),
        raw.get("checksum_algorithm"),
        raw.get("checksum_type"),
        str(raw.get("owner", "")),
        str(raw.get("acl", "private")),
    )


def part_record(part: PartInfo) -> dict[str, Any]:
    return {
        "number": part.number,
        "size": part.size,
        "etag": part.etag,
        "last_modified": part.last_modified,
        "checksum": checksum_record(part.checksum),
    }


def part_of(raw: Mapping[str, Any]) -> PartInfo:
    return PartInfo(
        int(raw["number"]),
        int(raw["size"]),
        str(raw["etag"]),
        float(raw["last_modified"]),
        checksum_of(raw.get("checksum")),
    )


def data_name(meta: Path) -> str | None:
    try:
        return str(json.loads(meta.read_bytes())["data"])
    except (OSError, ValueError, KeyError):
        return None


def write_json(path: Path, value: Mapping[str, Any]) -> None:
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        temp.write_bytes(json.dumps(value).encode())
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
