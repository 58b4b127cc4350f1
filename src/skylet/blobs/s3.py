"""The S3-backed blob store: objects in a real S3 bucket namespace or any S3-compatible server,
so that several skylet nodes share one object store (DESIGN.md §4).

botocore does the talking (signing, retries, XML): it is the well-kept client for S3, already
installed wherever boto3 is (``pip install skylet[s3]``). It is synchronous, so each call runs
in a worker thread; bodies still stream: an upload is spooled to a temporary file chunk by chunk
and sent from there (multipart above 64 MB), a download is read from the response in chunks.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any

from skylet.blobs.base import (
    BucketInfo,
    ByteRange,
    Chunks,
    Listing,
    ObjectInfo,
    PartInfo,
)
from skylet.errors import S3Error

#: Uploads are spooled in memory up to this size, then to a temporary file.
SPOOL_BYTES = 8 << 20
READ_CHUNK = 256 * 1024
_KEPT = {
    "CacheControl": "cache-control",
    "ContentDisposition": "content-disposition",
    "ContentEncoding": "content-encoding",
    "ContentLanguage": "content-language",
}
_PUT_ARGS = {header: arg for arg, header in _KEPT.items()}


def _translate(error: Exception) -> S3Error:
    """A botocore ClientError as the S3Error it reports; anything else as a 503."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
        code = str(details.get("Code", status))
        if code == "404" or (code == "NotFound" and status == 404):
            code = "NoSuchKey"
        return S3Error(code, str(details.get("Message", code)), status)
    return S3Error("ServiceUnavailable", f"the object store is unreachable: {error}", 503)


class S3Blobs:
    """``client`` is a botocore S3 client (``boto3.client("s3", endpoint_url=…)``)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    async def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(getattr(self._client, operation), **kwargs)
        except Exception as error:
            raise _translate(error) from error

    # -- buckets -------------------------------------------------------------------------------

    async def create_bucket(self, bucket: str, *, exist_ok: bool = False) -> None:
        try:
            await self._call("create_bucket", Bucket=bucket)
        except S3Error as error:
            if not (exist_ok and error.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")):
                raise

    async def head_bucket(self, bucket: str) -> BucketInfo:
        try:
            await self._call("head_bucket", Bucket=bucket)
        except S3Error as error:
            if error.status == 404:
                raise S3Error(
                    "NoSuchBucket", "The specified bucket does not exist", 404, BucketName=bucket
                ) from None
            raise
        for found in await self.list_buckets():
            if found.name == bucket:
                return found
        return BucketInfo(bucket, 0.0)

    async def list_buckets(self) -> list[BucketInfo]:
        answer = await self._call("list_buckets")
        return [
            BucketInfo(b["Name"], b["CreationDate"].timestamp()) for b in answer.get("Buckets", [])
        ]

    async def delete_bucket(self, bucket: str) -> None:
        await self._call("delete_bucket", Bucket=bucket)

    # -- objects -------------------------------------------------------------------------------

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
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Metadata": dict(metadata or {})}
        if content_type:
            args["ContentType"] = content_type
        if content_md5:
            args["ContentMD5"] = content_md5
        for header, value in (headers or {}).items():
            if header in _PUT_ARGS:
                args[_PUT_ARGS[header]] = value
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            async for chunk in chunks:
                spool.write(chunk)
            spool.seek(0)
            answer = await self._call("put_object", Body=spool, **args)
        info = await self.head(bucket, key)
        if info.etag != str(answer.get("ETag", "")).strip('"'):
            return await self.head(bucket, key)  # a concurrent PUT won; report what is there
        return info

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        try:
            answer = await self._call("head_object", Bucket=bucket, Key=key)
        except S3Error as error:
            if error.status == 404:
                raise S3Error(
                    "NoSuchKey", "The specified key does not exist.", 404, Key=key
                ) from None
            raise
        return _info(key, answer)

    async def read(
        self, bucket: str, key: str, byte_range: ByteRange | None = None
    ) -> tuple[ObjectInfo, Chunks]:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if byte_range is not None:
            args["Range"] = f"bytes={byte_range.first}-{byte_range.last}"
        answer = await self._call("get_object", **args)
        info = _info(key, answer)
        if byte_range is not None:
            total = str(answer.get("ContentRange", "")).rpartition("/")[2]
            if total.isdigit():
                info = ObjectInfo(
                    key,
                    int(total),
                    info.etag,
                    info.last_modified,
                    info.content_type,
                    info.metadata,
                    info.headers,
                )
        return info, _body(answer["Body"])

    async def delete(self, bucket: str, key: str) -> bool:
        try:
            await self.head(bucket, key)
        except S3Error as error:
            if error.code == "NoSuchKey":
                await self.head_bucket(bucket)
                return False
            raise
        await self._call("delete_object", Bucket=bucket, Key=key)
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
        args: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "CopySource": {"Bucket": source_bucket, "Key": source_key},
            "MetadataDirective": "REPLACE" if replace_metadata else "COPY",
        }
        if replace_metadata:
            args["Metadata"] = dict(metadata or {})
            if content_type:
                args["ContentType"] = content_type
        await self._call("copy_object", **args)
        return await self.head(bucket, key)

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str = "",
        start_after: str = "",
        max_keys: int = 1000,
    ) -> Listing:
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": max_keys}
        if delimiter:
            args["Delimiter"] = delimiter
        if start_after:
            args["StartAfter"] = start_after
        answer = await self._call("list_objects_v2", **args)
        objects = tuple(
            ObjectInfo(
                o["Key"], int(o["Size"]), o["ETag"].strip('"'), o["LastModified"].timestamp()
            )
            for o in answer.get("Contents", [])
        )
        prefixes = tuple(p["Prefix"] for p in answer.get("CommonPrefixes", []))
        truncated = bool(answer.get("IsTruncated"))
        names = sorted([*(o.key for o in objects), *prefixes], key=lambda k: k.encode())
        return Listing(objects, prefixes, truncated, names[-1] if truncated and names else None)

    # -- multipart -----------------------------------------------------------------------------

    async def create_upload(
        self,
        bucket: str,
        key: str,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Metadata": dict(metadata or {})}
        if content_type:
            args["ContentType"] = content_type
        for header, value in (headers or {}).items():
            if header in _PUT_ARGS:
                args[_PUT_ARGS[header]] = value
        answer = await self._call("create_multipart_upload", **args)
        return str(answer["UploadId"])

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, chunks: Chunks
    ) -> PartInfo:
        size = 0
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            async for chunk in chunks:
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            answer = await self._call(
                "upload_part",
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=spool,
            )
        return PartInfo(number, size, str(answer["ETag"]).strip('"'), time.time())

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        answer = await self._call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id)
        return [
            PartInfo(
                int(p["PartNumber"]),
                int(p["Size"]),
                str(p["ETag"]).strip('"'),
                p["LastModified"].timestamp(),
            )
            for p in answer.get("Parts", [])
        ]

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self._call("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)

    async def complete_upload(
        self, bucket: str, key: str, upload_id: str, wanted: list[tuple[int, str]]
    ) -> ObjectInfo:
        parts = [{"PartNumber": n, "ETag": etag} for n, etag in wanted]
        await self._call(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )
        return await self.head(bucket, key)


def _info(key: str, answer: Mapping[str, Any]) -> ObjectInfo:
    kept = {header: answer[arg] for arg, header in _KEPT.items() if answer.get(arg)}
    return ObjectInfo(
        key=key,
        size=int(answer.get("ContentLength", 0)),
        etag=str(answer.get("ETag", "")).strip('"'),
        last_modified=answer["LastModified"].timestamp() if "LastModified" in answer else 0.0,
        content_type=str(answer.get("ContentType") or "binary/octet-stream"),
        metadata=MappingProxyType(dict(answer.get("Metadata") or {})),
        headers=MappingProxyType(kept),
    )


async def _body(stream: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(stream.read, READ_CHUNK):
            yield chunk
    finally:
        with contextlib.suppress(Exception):
            stream.close()
