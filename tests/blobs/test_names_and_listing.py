"""Bucket names as S3's rules have them, and listing pages (objects, multipart uploads in
progress) from the sorted indexes. Pure."""

from __future__ import annotations

import time

import pytest
from sortedcontainers import SortedDict

from skylet.blobs.base import ObjectInfo, UploadInfo, is_bucket_name
from skylet.blobs.file_uploads import UploadIndex
from skylet.blobs.listing import page, upload_page


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        pytest.param("my-bucket", True, id="an ordinary name"),
        pytest.param("favicon.ico", True, id="a dotted name"),
        pytest.param("xn--abc-bucket", False, id="an IDN prefix is reserved"),
        pytest.param("sthree-bucket", False, id="the sthree- prefix is reserved"),
        pytest.param("amzn-s3-demo-bucket", False, id="the demo prefix is reserved"),
        pytest.param("photos-s3alias", False, id="an access point alias suffix"),
        pytest.param("photos--ol-s3", False, id="an Object Lambda suffix"),
        pytest.param("photos--x-s3", False, id="a directory bucket suffix"),
        pytest.param("photos.mrap", False, id="a multi-region access point suffix"),
        pytest.param("Upper", False, id="upper case"),
        pytest.param("192.168.1.1", False, id="an IP address"),
    ],
)
def test_bucket_names_follow_s3s_rules(name: str, allowed: bool) -> None:
    assert is_bucket_name(name) is allowed


def index_of(keys: list[str]) -> SortedDict:
    return SortedDict({k.encode(): ObjectInfo(k, 0, "e", 0.0) for k in keys})


@pytest.mark.parametrize(
    ("prefix", "delimiter", "after", "max_keys", "objects", "prefixes", "truncated"),
    [
        pytest.param("", "/", "", 10, ["c"], ["a/", "b/"], False, id="roll up at the delimiter"),
        pytest.param("a/", "/", "", 10, ["a/1", "a/2"], ["a/b/"], False, id="under a prefix"),
        pytest.param("", "", "a/2", 2, ["a/b/3", "b/4"], [], True, id="after a key, truncated"),
        pytest.param("", "/", "a/", 10, ["c"], ["b/"], False, id="a prefix seen is skipped"),
        pytest.param("", "", "", 0, [], [], False, id="max-keys 0 is an empty whole page"),
        pytest.param("zz", "", "", 10, [], [], False, id="nothing under the prefix"),
    ],
)
def test_a_page_of_the_listing(
    prefix: str,
    delimiter: str,
    after: str,
    max_keys: int,
    objects: list[str],
    prefixes: list[str],
    truncated: bool,
) -> None:
    listing = page(
        index_of(["a/1", "a/2", "a/b/3", "b/4", "c"]), prefix, delimiter, after, max_keys
    )
    assert [o.key for o in listing.objects] == objects
    assert list(listing.common_prefixes) == prefixes
    assert listing.truncated is truncated


def test_keys_are_listed_in_utf8_byte_order() -> None:
    listing = page(index_of(["é", "z", "a"]), "", "", "", 10)
    assert [o.key for o in listing.objects] == ["a", "z", "é"]


def test_a_small_page_of_a_large_bucket_costs_the_page_not_the_bucket() -> None:
    """100,000 keys: the old listing sorted them all per call (52 ms for max-keys=10 on this
    machine); a page from the index is a few bisections."""
    index = index_of([f"dir{i % 100}/key{i:06d}" for i in range(100_000)])
    started = time.perf_counter()
    for _ in range(100):
        listing = page(index, "dir5/", "", "dir5/key050000", 10)
    per_call_ms = (time.perf_counter() - started) * 1000 / 100
    assert len(listing.objects) == 10
    assert per_call_ms < 5, f"{per_call_ms:.2f} ms per page"
    rolled = page(index, "", "/", "", 1000)  # 100 common prefixes, one bisection each
    assert len(rolled.common_prefixes) == 100


#: (key, upload id): two uploads of "a/1" (ids 1 then 2, as they started), one of each other key.
UPLOADS = [("a/1", "1"), ("a/1", "2"), ("a/b/3", "3"), ("b/4", "4"), ("c", "5")]


def uploads_of(entries: list[tuple[str, str]]) -> SortedDict:
    return SortedDict({(k.encode(), u): UploadInfo(u, k, 0.0) for k, u in entries})


@pytest.mark.parametrize(
    ("prefix", "delimiter", "key_marker", "id_marker", "limit", "listed", "prefixes", "next_"),
    [
        pytest.param("", "", "", "", 10, [("a/1", "1"), ("a/1", "2"), ("a/b/3", "3"),
                     ("b/4", "4"), ("c", "5")], [], None, id="every upload, by key then by id"),
        pytest.param("", "/", "", "", 10, [("c", "5")], ["a/", "b/"], None,
                     id="roll up at the delimiter"),
        pytest.param("a/", "/", "", "", 10, [("a/1", "1"), ("a/1", "2")], ["a/b/"], None,
                     id="under a prefix"),
        pytest.param("", "", "a/1", "", 10, [("a/b/3", "3"), ("b/4", "4"), ("c", "5")], [],
                     None, id="a key marker alone skips every upload of that key"),
        pytest.param("", "", "a/1", "1", 10, [("a/1", "2"), ("a/b/3", "3"), ("b/4", "4"),
                     ("c", "5")], [], None, id="with an upload id marker, that key's later ones"),
        pytest.param("", "", "", "", 2, [("a/1", "1"), ("a/1", "2")], [], ("a/1", "2"),
                     id="truncated: the next markers are the last upload listed"),
        pytest.param("", "/", "", "", 1, [], ["a/"], ("a/", None),
                     id="truncated after a common prefix: no upload id marker"),
        pytest.param("", "/", "a/", "", 10, [("c", "5")], ["b/"], None,
                     id="a common prefix already listed is skipped"),
        pytest.param("", "", "", "", 0, [], [], None, id="max-uploads 0 is an empty page"),
    ],
)  # fmt: skip
def test_a_page_of_the_uploads_in_progress(
    prefix: str,
    delimiter: str,
    key_marker: str,
    id_marker: str,
    limit: int,
    listed: list[tuple[str, str]],
    prefixes: list[str],
    next_: tuple[str, str | None] | None,
) -> None:
    got = upload_page(uploads_of(UPLOADS), prefix, delimiter, key_marker, id_marker, limit)
    assert [(u.key, u.upload_id) for u in got.uploads] == listed
    assert list(got.common_prefixes) == prefixes
    assert got.truncated is (next_ is not None)
    if next_ is not None:
        assert (got.next_key_marker, got.next_upload_id_marker) == next_


def test_upload_ids_sort_as_their_uploads_started() -> None:
    index = UploadIndex()
    ids = [index.new_id() for _ in range(50)]
    assert ids == sorted(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
