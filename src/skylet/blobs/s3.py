"""The S3-backed blob store: objects in a real S3 bucket namespace or any S3-compatible server,
so that several skylet nodes share one object store (docs/ARCHITECTURE.md).

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
from collections.abc import AsyncIterator, Callable, Mapping
from types import MappingProxyType
from typing import Any

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

    async def create_bucket(
        self, bucket: str, *, exist_ok: bool = False, owner: str = "", acl: str = "private"
    ) -> None:
        # An S3 server answers 200 to its owner's bucket made again (us-east-1): the store's
        # contract says BucketAlreadyOwnedByYou, so ask first.
        try:
            await self._call("head_bucket", Bucket=bucket)
        except S3Error:
            pass  # not there (or not ours: create_bucket will say)
        else:
            if exist_ok:
                return
            raise bucket_already_owned(bucket)
        try:
            await self._call("create_bucket", Bucket=bucket, ACL=acl)
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

    async def set_bucket_acl(self, bucket: str, acl: str) -> None:
        await self._call("put_bucket_acl", Bucket=bucket, ACL=acl)

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
        checksum: Callable[[], Checksum | None] | None = None,
        conditions: WriteConditions = NO_CONDITIONS,
        owner: str = "",
        acl: str = "private",
    ) -> ObjectInfo:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Metadata": dict(metadata or {})}
        args.update(_conditions(conditions), ACL=acl)
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
            args.update(_checksum_args(checksum() if checksum is not None else None))
            answer = await self._call("put_object", Body=spool, **args)
        info = await self.head(bucket, key)
        if info.etag != str(answer.get("ETag", "")).strip('"'):
            return await self.head(bucket, key)  # a concurrent PUT won; report what is there
        return info

    async def head(self, bucket: str, key: str) -> ObjectInfo:
        try:
            answer = await self._call("head_object", Bucket=bucket, Key=key, ChecksumMode="ENABLED")
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

    async def delete(
        self, bucket: str, key: str, conditions: WriteConditions = NO_CONDITIONS
    ) -> bool:
        try:
            await self.head(bucket, key)
        except S3Error as error:
            if error.code == "NoSuchKey":
                await self.head_bucket(bucket)
                return False
            raise
        extra = {"IfMatch": conditions.if_match} if conditions.if_match else {}
        await self._call("delete_object", Bucket=bucket, Key=key, **extra)
        return True

    async def set_object_acl(self, bucket: str, key: str, acl: str) -> None:
        await self._call("put_object_acl", Bucket=bucket, Key=key, ACL=acl)

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
        args: dict[str, Any] = {
            "ACL": acl,
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
        checksum_algorithm: str | None = None,
        checksum_type: str | None = None,
        owner: str = "",
        acl: str = "private",
    ) -> str:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Metadata": dict(metadata or {})}
        args["ACL"] = acl
        if checksum_algorithm:
            args["ChecksumAlgorithm"] = checksum_algorithm
            args["ChecksumType"] = checksum_type or "COMPOSITE"
        if content_type:
            args["ContentType"] = content_type
        for header, value in (headers or {}).items():
            if header in _PUT_ARGS:
                args[_PUT_ARGS[header]] = value
        answer = await self._call("create_multipart_upload", **args)
        return str(answer["UploadId"])

    async def get_upload(self, bucket: str, key: str, upload_id: str) -> UploadInfo:
        answer = await self._call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id)
        algorithm = answer.get("ChecksumAlgorithm")
        kind = answer.get("ChecksumType") if algorithm else None
        return UploadInfo(upload_id, key, 0.0, checksum_algorithm=algorithm, checksum_type=kind)

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
        args: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxUploads": max_uploads}
        if delimiter:
            args["Delimiter"] = delimiter
        if key_marker:
            args["KeyMarker"] = key_marker
            if upload_id_marker:
                args["UploadIdMarker"] = upload_id_marker
        answer = await self._call("list_multipart_uploads", **args)
        uploads = tuple(
            UploadInfo(
                str(u["UploadId"]),
                str(u["Key"]),
                u["Initiated"].timestamp(),
                checksum_algorithm=u.get("ChecksumAlgorithm"),
                checksum_type=u.get("ChecksumType"),
            )
            for u in answer.get("Uploads", [])
        )
        truncated = bool(answer.get("IsTruncated"))
        return UploadListing(
            uploads,
            tuple(p["Prefix"] for p in answer.get("CommonPrefixes", [])),
            truncated,
            answer.get("NextKeyMarker") or None if truncated else None,
            answer.get("NextUploadIdMarker") or None if truncated else None,
        )

    async def upload_part(
        self,
        bucket: str,
        key: str,
        upload_id: str,
        number: int,
        chunks: Chunks,
        checksum: Callable[[], Checksum | None] | None = None,
    ) -> PartInfo:
        size = 0
        with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as spool:
            async for chunk in chunks:
                spool.write(chunk)
                size += len(chunk)
            spool.seek(0)
            given = checksum() if checksum is not None else None
            answer = await self._call(
                "upload_part",
                **_checksum_args(given),
                Bucket=bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=spool,
            )
        return PartInfo(number, size, str(answer["ETag"]).strip('"'), time.time(), given)

    async def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        answer = await self._call("list_parts", Bucket=bucket, Key=key, UploadId=upload_id)
        return [
            PartInfo(
                int(p["PartNumber"]),
                int(p["Size"]),
                str(p["ETag"]).strip('"'),
                p["LastModified"].timestamp(),
                _checksum_of(p, answer.get("ChecksumType") or "COMPOSITE"),
            )
            for p in answer.get("Parts", [])
        ]

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        await self._call("abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id)

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
        args: dict[str, Any] = _conditions(conditions)
        parts: list[dict[str, Any]] = [{"PartNumber": n, "ETag": etag} for n, etag in wanted]
        if checksum is not None:
            upload = await self.get_upload(bucket, key, upload_id)
            have = {p.number: p for p in await self.list_parts(bucket, key, upload_id)}
            chosen = [have[n] for n, _ in wanted if n in have]
            whole = checksum(upload, chosen)
            for part, info in zip(parts, chosen, strict=False):
                part.update(_checksum_args(info.checksum))
            if whole is not None:
                args.update(_checksum_args(whole))
                args.pop("ChecksumAlgorithm", None)
        await self._call(
            "complete_multipart_upload",
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
            **args,
        )
        return await self.head(bucket, key)


def _conditions(conditions: WriteConditions) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if conditions.if_match is not None:
        args["IfMatch"] = conditions.if_match
    if conditions.if_none_match is not None:
        args["IfNoneMatch"] = conditions.if_none_match
    return args


def _checksum_args(checksum: Checksum | None) -> dict[str, Any]:
    """botocore's arguments for a checksum (the server checks and keeps it)."""
    if checksum is None:
        return {}
    name = "Checksum" + checksum.algorithm
    return {"ChecksumAlgorithm": checksum.algorithm, name: checksum.value}


def _checksum_of(answer: Mapping[str, Any], kind: str) -> Checksum | None:
    for algorithm in ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"):
        value = answer.get("Checksum" + algorithm)
        if value:
            return Checksum(algorithm, str(value), str(answer.get("ChecksumType") or kind))
    return None


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
        checksum=_checksum_of(answer, "FULL_OBJECT"),
    )


async def _body(stream: Any) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(stream.read, READ_CHUNK):
            yield chunk
    finally:
        with contextlib.suppress(Exception):
            stream.close()
