"""One page of a bucket's listing from a sorted index: S3's order (UTF-8 bytes), prefix,
delimiter roll-up, start-after, max-keys; and one page of its multipart uploads in progress
(key-marker, upload-id-marker). Pure; the work is O(log n) per key or common prefix on the page,
never the size of the bucket."""

from __future__ import annotations

from sortedcontainers import SortedDict

from skylet.blobs.base import Listing, ObjectInfo, UploadInfo, UploadListing

#: Never a byte of UTF-8: ``prefix + _AFTER`` sorts after every key that starts with prefix.
_AFTER = b"\xff"


def _common_prefix(key: bytes, prefix: bytes, delimiter: bytes) -> bytes | None:
    """The common prefix ``key`` rolls up into: up to the first ``delimiter`` after ``prefix``,
    the delimiter included; None without one."""
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return key[: cut + len(delimiter)] if cut >= 0 else None


def page(
    index: SortedDict, prefix: str, delimiter: str, start_after: str, max_keys: int
) -> Listing:
    """``index`` maps UTF-8 key bytes to their :class:`ObjectInfo`. A common prefix counts as
    one entry and is skipped over whole (one bisection), however many keys it holds."""
    if max_keys <= 0:
        return Listing((), (), False, None)
    start, after, cut_at = prefix.encode(), start_after.encode(), delimiter.encode()
    keys = index.keys()
    position = index.bisect_right(after) if after >= start else index.bisect_left(start)
    objects: list[ObjectInfo] = []
    prefixes: list[str] = []
    last = ""
    while position < len(keys):
        key: bytes = keys[position]
        if not key.startswith(start):
            break  # sorted: every later key is past the prefix too
        common = _common_prefix(key, start, cut_at)
        if common is not None and common <= after:  # listed on an earlier page
            position = index.bisect_left(common + _AFTER)
            continue
        if len(objects) + len(prefixes) >= max_keys:
            return Listing(tuple(objects), tuple(prefixes), True, last)
        if common is not None:
            last = common.decode()
            prefixes.append(last)
            position = index.bisect_left(common + _AFTER)
        else:
            objects.append(index[key])
            last = objects[-1].key
            position += 1
    return Listing(tuple(objects), tuple(prefixes), False, None)


def upload_page(
    index: SortedDict,
    prefix: str,
    delimiter: str,
    key_marker: str,
    upload_id_marker: str,
    max_uploads: int,
) -> UploadListing:
    """``index`` maps (UTF-8 key bytes, upload id) to its :class:`UploadInfo`. Without
    ``upload_id_marker`` the page starts after every upload of ``key_marker``; with it, after
    that upload of that key (S3 ignores the id without a key marker)."""
    if max_uploads <= 0:
        return UploadListing((), (), False)
    start, marker, cut_at = prefix.encode(), key_marker.encode(), delimiter.encode()
    if not key_marker:
        position = index.bisect_left((start,))
    elif upload_id_marker:
        position = index.bisect_right((marker, upload_id_marker))
    else:
        # (marker + NUL,) sorts after every (marker, id) and before every longer key.
        position = index.bisect_left((marker + b"\x00",))
    position = max(position, index.bisect_left((start,)))
    keys = index.keys()
    uploads: list[UploadInfo] = []
    prefixes: list[str] = []
    last: tuple[str, str | None] = ("", None)
    while position < len(keys):
        key, _ = keys[position]
        if not key.startswith(start):
            break
        common = _common_prefix(key, start, cut_at)
        if common is not None and key_marker and common <= marker:  # on an earlier page
            position = index.bisect_left((common + _AFTER,))
            continue
        if len(uploads) + len(prefixes) >= max_uploads:
            return UploadListing(tuple(uploads), tuple(prefixes), True, *last)
        if common is not None:
            prefixes.append(common.decode())
            last = (prefixes[-1], None)
            position = index.bisect_left((common + _AFTER,))
        else:
            uploads.append(index[keys[position]])
            last = (uploads[-1].key, uploads[-1].upload_id)
            position += 1
    return UploadListing(tuple(uploads), tuple(prefixes), False)
