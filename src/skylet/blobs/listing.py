"""One page of a bucket's listing from a sorted index: S3's order (UTF-8 bytes), prefix,
delimiter roll-up, start-after, max-keys. Pure; the work is O(log n) per key or common prefix
on the page, never the size of the bucket."""

from __future__ import annotations

from sortedcontainers import SortedDict

from skylet.blobs.base import Listing, ObjectInfo

#: Never a byte of UTF-8: ``prefix + _AFTER`` sorts after every key that starts with prefix.
_AFTER = b"\xff"


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
        common = None
        if cut_at:
            cut = key.find(cut_at, len(start))
            if cut >= 0:
                common = key[: cut + len(cut_at)]
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
