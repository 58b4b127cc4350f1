"""``skylet.storage``: object storage for functions and scripts, a thin layer over boto3's S3
client (the SDK Lambda's Python runtime includes).

Inside an instance it needs no configuration: skylet gives every function ``AWS_ENDPOINT_URL``
and credentials, as AWS's SDKs expect (so ``boto3.client("s3")`` works there too). Outside, it
reads the same variables, or ``SKYLET_ENDPOINT``, or takes them as arguments::

    from skylet import storage
    storage.put("uploads", "in/a.txt", b"hello", content_type="text/plain")
    data = storage.get("uploads", "in/a.txt")
    keys = list(storage.list("uploads", prefix="in/"))
    url = storage.presign("uploads", "in/a.txt", expires_s=600)
    storage.delete("uploads", "in/a.txt")

What it adds to boto3 (``Storage.client`` is the client itself, for everything else): skylet's
defaults (the endpoint, ``test``/``test`` credentials, path-style addressing, SigV4 presigned
URLs), one error type with S3's code (:class:`StorageError`), ETags without quotes, the keys of
a listing as one iterator over its pages, and progress callbacks that get running totals.

boto3 is imported when the first client is made, not with this module: ~0.3 s, the price a
Lambda function pays for ``import boto3``, paid only by code that uses storage.
"""

from __future__ import annotations

import builtins
import datetime
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, NamedTuple
from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
CHUNK = 1 << 20
#: The operation a presigned URL allows, by its HTTP method.
_PRESIGNED = {
    "GET": "get_object",
    "PUT": "put_object",
    "DELETE": "delete_object",
    "HEAD": "head_object",
}


class StorageError(Exception):
    """S3's error ``code`` (``NoSuchKey``, ``NoSuchBucket``, …), its message and HTTP status;
    for a request that got no answer (the server is unreachable), botocore's error name and
    status 0."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Storage:
    """One endpoint and its credentials. Making one does no I/O; the boto3 client is made on
    first use."""

    def __init__(
        self,
        endpoint: str | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.endpoint = (
            endpoint
            or env.get("AWS_ENDPOINT_URL_S3")
            or env.get("AWS_ENDPOINT_URL")
            or env.get("SKYLET_ENDPOINT")
            or DEFAULT_ENDPOINT
        ).rstrip("/")
        # An empty variable is no setting (a shell's ``AWS_ACCESS_KEY_ID=`` unsets it).
        self.access_key = access_key or env.get("AWS_ACCESS_KEY_ID") or "test"
        self.secret_key = secret_key or env.get("AWS_SECRET_ACCESS_KEY") or "test"
        # A function's own credentials come with their session token (docs/services.md); an
        # explicitly given key pair has none.
        self.session_token = None if access_key else env.get("AWS_SESSION_TOKEN") or None
        self.region = (
            region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {self.endpoint!r}")
        self._client: Any = None

    @property
    def client(self) -> Any:
        """boto3's S3 client for this endpoint, made (and boto3 imported) on first use."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            session = boto3.session.Session(
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
                aws_session_token=self.session_token,
                region_name=self.region,
            )
            config = Config(
                signature_version="s3v4",  # boto3's presigned URLs are SigV2 otherwise
                s3={"addressing_style": "path"},  # what skylet serves
                retries={"mode": "standard"},
            )
            self._client = session.client("s3", endpoint_url=self.endpoint, config=config)
        return self._client

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes | str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> str:
        """Store ``data`` at ``bucket/key``; returns its ETag (without quotes)."""
        body = data.encode() if isinstance(data, str) else bytes(data)
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body}
        if content_type:
            args["ContentType"] = content_type
        if metadata:
            args["Metadata"] = dict(metadata)
        with _s3_errors():
            return str(self.client.put_object(**args)["ETag"]).strip('"')

    def upload(
        self,
        bucket: str,
        key: str,
        path: str,
        *,
        content_type: str | None = None,
        progress: Callable[[int], None] = lambda _: None,
    ) -> str:
        """Stream a local file to ``bucket/key`` (never read whole; in parts from 8 MB, as
        boto3's ``upload_file`` does); ``progress`` gets the bytes sent so far. Returns the
        ETag (a multipart upload's, ``<hex>-<parts>``, for a file sent in parts)."""
        moved = _Sent(progress)
        extra = {"ContentType": content_type} if content_type else None
        with _s3_errors():
            self.client.upload_file(path, bucket, key, ExtraArgs=extra, Callback=moved)
            return str(self.client.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')

    def download(
        self,
        bucket: str,
        key: str,
        path: str,
        *,
        progress: Callable[[int, int], None] = lambda _done, _total: None,
    ) -> int:
        """Stream ``bucket/key`` into a local file; ``progress`` gets (bytes so far, total).
        Returns the bytes written."""
        with open(path, "wb") as target:
            return self.download_to(bucket, key, target, progress=progress)

    def download_to(
        self,
        bucket: str,
        key: str,
        target: BinaryIO,
        *,
        progress: Callable[[int, int], None] = lambda _done, _total: None,
    ) -> int:
        """Stream ``bucket/key`` into ``target`` (standard output, say); as :meth:`download`."""
        with _s3_errors():
            return _copy(self.client.get_object(Bucket=bucket, Key=key), target, progress)

    def upload_from(
        self,
        bucket: str,
        key: str,
        source: BinaryIO,
        *,
        content_type: str | None = None,
        progress: Callable[[int], None] = lambda _: None,
    ) -> tuple[str, int]:
        """Stream ``source`` (standard input, say; it need not be seekable) to ``bucket/key``,
        in parts from 8 MB; returns the ETag and the bytes sent."""
        moved = _Sent(progress)
        extra = {"ContentType": content_type} if content_type else None
        with _s3_errors():
            self.client.upload_fileobj(source, bucket, key, ExtraArgs=extra, Callback=moved)
            etag = str(self.client.head_object(Bucket=bucket, Key=key)["ETag"]).strip('"')
        return etag, moved.total

    def get(self, bucket: str, key: str) -> bytes:
        with _s3_errors():
            return bytes(self.client.get_object(Bucket=bucket, Key=key)["Body"].read())

    def delete(self, bucket: str, key: str) -> None:
        with _s3_errors():
            self.client.delete_object(Bucket=bucket, Key=key)

    def buckets(self) -> builtins.list[str]:
        with _s3_errors():
            return [str(b["Name"]) for b in self.client.list_buckets().get("Buckets", [])]

    def create_bucket(self, bucket: str) -> None:
        """Create ``bucket``; one that exists already and is ours is no error."""
        try:
            with _s3_errors():
                self.client.create_bucket(Bucket=bucket)
        except StorageError as error:
            if error.code != "BucketAlreadyOwnedByYou":
                raise

    def list(self, bucket: str, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``, page by page (a page is fetched when the keys before it
        have been taken)."""
        with _s3_errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield str(item["Key"])

    def objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """As :meth:`list`, with each object's size, last change and ETag."""
        with _s3_errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        str(item["Key"]),
                        int(item["Size"]),
                        item["LastModified"],
                        str(item.get("ETag", "")).strip('"'),
                    )

    def presign(self, bucket: str, key: str, *, method: str = "GET", expires_s: int = 3600) -> str:
        """A URL anyone may use for ``method`` (GET, PUT, DELETE or HEAD) on the object until it
        expires (SigV4, at most 7 days)."""
        operation = _PRESIGNED.get(method.upper())
        if operation is None:
            raise ValueError(f"cannot presign {method!r}: one of {', '.join(_PRESIGNED)}")
        with _s3_errors():
            return str(
                self.client.generate_presigned_url(
                    operation, Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_s
                )
            )


class ObjectInfo(NamedTuple):
    """One object of a listing: its key, size in bytes, last change (UTC) and ETag."""

    key: str
    size: int
    last_modified: datetime.datetime
    etag: str


class _Sent:
    """boto3's transfer callback: adds up the bytes sent and reports the total so far (boto3
    sends the parts of a large upload from several threads, hence the lock)."""

    def __init__(self, progress: Callable[[int], None]) -> None:
        self.total = 0
        self._progress = progress
        self._lock = threading.Lock()

    def __call__(self, count: int) -> None:
        with self._lock:
            self.total += count
            self._progress(self.total)


def _copy(answer: dict[str, Any], target: BinaryIO, progress: Callable[[int, int], None]) -> int:
    total = int(answer.get("ContentLength", 0))
    done = 0
    for chunk in answer["Body"].iter_chunks(CHUNK):
        target.write(chunk)
        done += len(chunk)
        progress(done, total)
    return done


@contextmanager
def _s3_errors() -> Iterator[None]:
    """boto3's and botocore's errors as :class:`StorageError`."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as error:
        raise _error(error.response) from error
    except S3UploadFailedError as error:
        # upload_file reports the client's error inside its own.
        cause = error.__context__
        if isinstance(cause, ClientError):
            raise _error(cause.response) from error
        raise StorageError(type(error).__name__, str(error), 0) from error
    except BotoCoreError as error:
        raise StorageError(type(error).__name__, str(error), 0) from error


def _error(response: dict[str, Any]) -> StorageError:
    details = response.get("Error", {})
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return StorageError(str(details.get("Code") or status), str(details.get("Message", "")), status)


_default: Storage | None = None


def _client() -> Storage:
    global _default
    if _default is None:
        _default = Storage()
    return _default


def put(
    bucket: str,
    key: str,
    data: bytes | str,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> str:
    return _client().put(bucket, key, data, content_type=content_type, metadata=metadata)


def get(bucket: str, key: str) -> bytes:
    return _client().get(bucket, key)


def delete(bucket: str, key: str) -> None:
    _client().delete(bucket, key)


def list(bucket: str, prefix: str = "") -> Iterator[str]:
    return _client().list(bucket, prefix)


def presign(bucket: str, key: str, *, method: str = "GET", expires_s: int = 3600) -> str:
    return _client().presign(bucket, key, method=method, expires_s=expires_s)
