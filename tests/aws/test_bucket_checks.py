"""Does an unsigned request's path name a bucket: asked of the store once per name and second,
never for a name S3 would refuse, and known at once when this API makes or removes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.aws import s3_api
from skylet.aws.s3_api import S3Api
from skylet.aws.sigv4 import Credentials
from skylet.blobs.base import BucketInfo
from skylet.blobs.files import FileBlobs

pytestmark = pytest.mark.anyio


class CountingBlobs(FileBlobs):
    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.heads = 0

    async def head_bucket(self, bucket: str) -> BucketInfo:
        self.heads += 1
        return await super().head_bucket(bucket)


@pytest.fixture
def blobs(tmp_path: Path) -> CountingBlobs:
    return CountingBlobs(tmp_path / "blobs")


@pytest.fixture
def api(blobs: CountingBlobs) -> S3Api:
    return S3Api(blobs, Credentials({"test": "test"}))


async def test_answers_are_reused_for_a_while(api: S3Api, blobs: CountingBlobs) -> None:
    await blobs.create_bucket("photos")
    assert [await api.has_bucket("photos") for _ in range(3)] == [True] * 3
    assert [await api.has_bucket("nothing-here") for _ in range(3)] == [False] * 3
    assert blobs.heads == 2


async def test_answers_expire(
    api: S3Api, blobs: CountingBlobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_api, "BUCKET_CHECK_TTL_S", 0.0)
    assert not await api.has_bucket("later")
    await blobs.create_bucket("later")  # by another node, say: nothing here hears of it
    assert await api.has_bucket("later")
    assert blobs.heads == 2


@pytest.mark.parametrize(
    "name", ["favicon.ico", "UPPER", "ab", "a" * 64, "under_score", "a..b", "10.0.0.1", ""]
)
async def test_names_s3_refuses_are_not_asked(api: S3Api, blobs: CountingBlobs, name: str) -> None:
    if name == "favicon.ico":  # a valid bucket name after all; the others are not
        assert not await api.has_bucket(name)
        assert blobs.heads == 1
        return
    assert not await api.has_bucket(name)
    assert blobs.heads == 0


async def test_the_memory_is_bounded(
    api: S3Api, blobs: CountingBlobs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_api, "BUCKET_CHECK_MEMORY", 10)
    for i in range(25):
        await api.has_bucket(f"crawler-{i}")
    assert len(api._bucket_checks) <= 10
