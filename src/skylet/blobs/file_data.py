"""The filesystem blob store's data files: a body received into one (its size and MD5 made as it
streams), a byte range streamed from one, and a completed multipart upload's parts chosen (S3's
checks and errors) and joined into one."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, BinaryIO

from skylet.blobs.base import ByteRange, Chunks, PartInfo
from skylet.errors import S3Error

#: How much of a data file is read or copied at a time.
READ_CHUNK = 256 * 1024
#: S3's smallest part, but for the last.
MIN_PART_BYTES = 5 * 1024 * 1024


async def receive(path: Path, chunks: Chunks, gone: Callable[[], S3Error]) -> Any:
    """Stream ``chunks`` into ``path``: (size, md5). ``gone`` is the error when the directory
    disappears underneath (the bucket deleted, the upload aborted)."""
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        # Chunks go to the page cache as they arrive: a write is microseconds, cheaper than a
        # thread hop per chunk, and the event loop never holds more than one chunk.
        with open(path, "wb") as out:  # noqa: ASYNC230
            async for chunk in chunks:
                out.write(chunk)
                md5.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise gone() from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size, md5


def choose_parts(
    upload_id: str, wanted: list[tuple[int, str]], parts: list[PartInfo]
) -> list[PartInfo]:
    """The parts a completion lists, checked as S3 checks them."""
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
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
            400,
            UploadId=upload_id,
        )
    have = {p.number: p for p in parts}
    chosen: list[PartInfo] = []
    for number, etag in wanted:
        part = have.get(number)
        if part is None or etag.strip('"') != part.etag:
            raise S3Error(
                "InvalidPart",
                "One or more of the specified parts could not be found. The part may not have "
                "been uploaded, or the specified entity tag may not match the part's entity "
                "tag.",
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
    return chosen


def open_parts(source: Path, parts: list[PartInfo]) -> list[BinaryIO]:
    """The chosen parts' data files, opened now: a part sent again while the completion joins
    them replaces the file's name, not these bytes, which are the ones the chosen records (and
    the ETag made from them) describe. Called on the event loop right after the records are
    read, with no await between: a part's data and its record change together."""
    opened: list[BinaryIO] = []
    try:
        for part in parts:
            opened.append(open(source / f"part-{part.number:05d}", "rb"))  # noqa: SIM115
    except BaseException:
        for handle in opened:
            handle.close()
        raise
    return opened


def join_parts(pieces: list[BinaryIO], target: Path) -> None:
    """Copy the opened parts, in order, into ``target``; closes them."""
    try:
        with open(target, "wb") as out:
            for piece in pieces:
                shutil.copyfileobj(piece, out, READ_CHUNK)
    finally:
        for piece in pieces:
            piece.close()


async def stream_range(handle: Any, byte_range: ByteRange | None) -> AsyncIterator[bytes]:
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
