"""``skylet.storage``: a small client for skylet's object storage, for functions and scripts.

Inside an instance it needs no configuration: skylet gives every function ``AWS_ENDPOINT_URL``
and credentials, as AWS's SDKs expect (so ``boto3.client("s3")`` works there too). Outside, it
reads the same variables, or ``SKYLET_ENDPOINT``, or takes them as arguments::

    from skylet import storage
    storage.put("uploads", "in/a.txt", b"hello", content_type="text/plain")
    data = storage.get("uploads", "in/a.txt")
    keys = list(storage.list("uploads", prefix="in/"))
    url = storage.presign("uploads", "in/a.txt", expires_s=600)
    storage.delete("uploads", "in/a.txt")

Standard library only (http.client), so importing it costs a function's cold start nothing
noticeable. Requests are signed with SigV4 by skylet's own signer.
"""

from __future__ import annotations

import builtins
import http.client
import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from skylet.aws import sigv4

DEFAULT_ENDPOINT = "http://127.0.0.1:9000"
CHUNK = 1 << 20


class StorageError(Exception):
    """S3's error ``code`` (``NoSuchKey``, ``NoSuchBucket``, …), its message and status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


class Storage:
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
        self.access_key = access_key or env.get("AWS_ACCESS_KEY_ID", "test")
        self.secret_key = secret_key or env.get("AWS_SECRET_ACCESS_KEY", "test")
        self.region = (
            region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        parts = urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) endpoint: {self.endpoint!r}")
        self._https = parts.scheme == "https"
        self._host = parts.netloc
        self._base = parts.path.rstrip("/")

    def _path(self, bucket: str, key: str = "") -> str:
        path = f"{self._base}/{quote(bucket, safe='')}"
        return f"{path}/{quote(key, safe='/~')}" if key else path

    def _request(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        extra = [(k.lower(), v) for k, v in (headers or {}).items()]
        signed = self._sign(method, path, query, body, extra)
        connection = self._connection()
        try:
            connection.request(
                method, f"{path}?{query}" if query else path, body=body, headers=dict(signed)
            )
            response = connection.getresponse()
            data = response.read()
            answer = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        if response.status >= 300:
            raise _error(response.status, data)
        return response.status, answer, data

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
        headers = {f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()}
        if content_type:
            headers["content-type"] = content_type
        _, answer, _ = self._request("PUT", self._path(bucket, key), body=body, headers=headers)
        return answer.get("etag", "").strip('"')

    def upload(
        self,
        bucket: str,
        key: str,
        path: str,
        *,
        content_type: str | None = None,
        progress: Callable[[int], None] = lambda _: None,
    ) -> str:
        """Stream a local file to ``bucket/key`` (never read whole); ``progress`` gets the bytes
        sent so far. Returns the ETag."""
        size = Path(path).stat().st_size
        headers = [("content-length", str(size))]
        if content_type:
            headers.append(("content-type", content_type))
        raw_path = self._path(bucket, key)
        signed = self._sign("PUT", raw_path, "", None, headers)
        connection = self._connection()
        try:
            connection.putrequest("PUT", raw_path, skip_accept_encoding=True)
            for name, value in signed:
                connection.putheader(name, value)
            connection.endheaders()
            sent = 0
            with open(path, "rb") as source:
                while chunk := source.read(CHUNK):
                    connection.send(chunk)
                    sent += len(chunk)
                    progress(sent)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        if response.status >= 300:
            raise _error(response.status, data)
        return (response.getheader("etag") or "").strip('"')

    def download(
        self,
        bucket: str,
        key: str,
        path: str,
        *,
        progress: Callable[[int, int], None] = lambda _done, _total: None,
    ) -> int:
        """Stream ``bucket/key`` into a local file; ``progress`` gets (bytes so far, total)."""
        raw_path = self._path(bucket, key)
        signed = self._sign("GET", raw_path, "", b"", [])
        connection = self._connection()
        try:
            connection.request("GET", raw_path, headers=dict(signed))
            response = connection.getresponse()
            if response.status >= 300:
                raise _error(response.status, response.read())
            total = int(response.getheader("content-length") or 0)
            done = 0
            with open(path, "wb") as target:
                while chunk := response.read(CHUNK):
                    target.write(chunk)
                    done += len(chunk)
                    progress(done, total)
        finally:
            connection.close()
        return done

    def _sign(
        self,
        method: str,
        raw_path: str,
        query: str,
        payload: bytes | None,
        headers: builtins.list[tuple[str, str]],
    ) -> builtins.list[tuple[str, str]]:
        """SigV4 headers for a request (``payload=None``: a streamed, unsigned body)."""
        return sigv4.sign_headers(
            access_key=self.access_key,
            secret=self.secret_key,
            region=self.region,
            method=method,
            host=self._host,
            raw_path=raw_path,
            raw_query=query,
            payload=payload,
            headers=headers,
        )

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, timeout=300)

    def get(self, bucket: str, key: str) -> bytes:
        return self._request("GET", self._path(bucket, key))[2]

    def delete(self, bucket: str, key: str) -> None:
        self._request("DELETE", self._path(bucket, key))

    def buckets(self) -> builtins.list[str]:
        document = ElementTree.fromstring(self._request("GET", f"{self._base}/")[2])
        return [e.text or "" for e in document.iter() if _local(e.tag) == "Name"]

    def create_bucket(self, bucket: str) -> None:
        try:
            self._request("PUT", self._path(bucket))
        except StorageError as error:
            if error.code != "BucketAlreadyOwnedByYou":
                raise

    def list(self, bucket: str, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix``, page by page."""
        token = ""
        while True:
            query = f"list-type=2&prefix={quote(prefix, safe='')}"
            if token:
                query += f"&continuation-token={quote(token, safe='')}"
            document = ElementTree.fromstring(self._request("GET", self._path(bucket), query)[2])
            for element in document.iter():
                if _local(element.tag) == "Key":
                    yield element.text or ""
            token = next(
                (e.text or "" for e in document if _local(e.tag) == "NextContinuationToken"), ""
            )
            if not token:
                return

    def presign(self, bucket: str, key: str, *, method: str = "GET", expires_s: int = 3600) -> str:
        """A URL anyone may use for ``method`` on the object until it expires."""
        path_and_query = sigv4.presign(
            access_key=self.access_key,
            secret=self.secret_key,
            region=self.region,
            method=method,
            host=self._host,
            raw_path=self._path(bucket, key),
            expires_s=expires_s,
        )
        scheme = "https" if self._https else "http"
        return f"{scheme}://{self._host}{path_and_query}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _error(status: int, data: bytes) -> StorageError:
    code = re.search(rb"<Code>([^<]*)</Code>", data)
    message = re.search(rb"<Message>([^<]*)</Message>", data)
    return StorageError(
        code.group(1).decode() if code else str(status),
        message.group(1).decode() if message else data[:200].decode(errors="replace"),
        status,
    )


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
