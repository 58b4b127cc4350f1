"""``skylet bucket ls|cp|rm|mb``: object storage from the command line, with progress bars.

``-`` in ``cp`` is standard output (download) or standard input (upload), as in the AWS CLI.
Exit status: 4 for a bucket or object that does not exist, 5 when the server cannot be
reached, 1 for any other refusal (cli/exits.py).
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from skylet.cli import auth
from skylet.cli.common import endpoint_option
from skylet.cli.exits import Exit, Status
from skylet.cli.output import Output
from skylet.storage import Storage, StorageError

#: Transfers at least this large show a progress bar (on a terminal).
PROGRESS_FROM_BYTES = 8 << 20
#: botocore's names for a server it could not talk to (StorageError.status is then 0).
_UNREACHABLE = {"EndpointConnectionError", "ConnectionClosedError", "ConnectTimeoutError"}


def _split(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` → (bucket, key)."""
    if not url.startswith("s3://"):
        raise click.UsageError(f"{url!r} is not an s3://bucket/key address")
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket:
        raise click.UsageError(f"{url!r} names no bucket")
    return bucket, key


def _progress(out: Output, total: int) -> Progress | None:
    if not out.rich or total < PROGRESS_FROM_BYTES:
        return None
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=out.console,
    )


def _storage(endpoint: str | None, credentials: str | None) -> Storage:
    """The storage at ``endpoint``, signed as every command signs (skylet.cli.auth.keys),
    else with the local pair ``test``/``test`` (which a local server accepts as it accepts an
    unsigned request)."""
    signer = auth.keys(credentials)
    try:
        if signer is None:
            return Storage(endpoint, access_key="test", secret_key="test", region=auth.region())
        return Storage(
            endpoint, access_key=signer.access_key, secret_key=signer.secret, region=signer.region
        )
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--endpoint-url") from None


@contextlib.contextmanager
def _failures(storage: Storage) -> Iterator[None]:
    """S3's refusals and local file errors as the command's exit status."""
    try:
        yield
    except StorageError as error:
        if error.code in _UNREACHABLE:
            raise Exit(
                f"cannot reach {storage.endpoint}: {error} (is `skylet up` running?)",
                Status.UNREACHABLE,
            ) from error
        status = Status.NOT_FOUND if error.status == 404 else Status.FAILED
        raise Exit(str(error), status) from error
    except OSError as error:
        raise Exit(str(error), Status.FAILED) from error


@click.group()
def bucket() -> None:
    """Buckets and objects of skylet's S3-compatible storage."""


_endpoint = endpoint_option("AWS_ENDPOINT_URL_S3", "SKYLET_ENDPOINT")
_credentials = auth.credentials_option()
_json = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (keys with size, date and ETag)."
)


@bucket.command("ls")
@click.argument("url", required=False)
@_json
@_endpoint
@_credentials
def ls(url: str | None, as_json: bool, endpoint: str | None, credentials: str | None) -> None:
    """List buckets, or the keys under s3://BUCKET[/PREFIX] (on a terminal with their sizes
    and dates; one key a line when piped)."""
    out = Output()
    storage = _storage(endpoint, credentials)
    with _failures(storage):
        if url is None:
            names = storage.buckets()
            if as_json:
                out.line(json.dumps([{"Name": name} for name in names], indent=2))
            else:
                out.table("buckets", ["name"], [[name] for name in names])
            return
        name, prefix = _split(url)
        if as_json:
            listed = [
                {
                    "Key": o.key,
                    "Size": o.size,
                    "LastModified": o.last_modified.isoformat(),
                    "ETag": o.etag,
                }
                for o in storage.objects(name, prefix)
            ]
            out.line(json.dumps(listed, indent=2))
        elif out.rich:
            rows = [
                [o.last_modified.strftime("%Y-%m-%d %H:%M:%S"), f"{o.size:,}", o.key]
                for o in storage.objects(name, prefix)
            ]
            out.table(f"s3://{name}/{prefix}", ["last modified (UTC)", "bytes", "key"], rows)
        else:
            for key in storage.list(name, prefix):
                out.line(key)


@bucket.command("cp")
@click.argument("source")
@click.argument("target")
@click.option("--content-type", help="The object's Content-Type when uploading.")
@_endpoint
@_credentials
def cp(
    source: str,
    target: str,
    content_type: str | None,
    endpoint: str | None,
    credentials: str | None,
) -> None:
    """Copy a local file to s3://BUCKET/KEY, or an object to a local file; - is standard
    input (upload) or standard output (download)."""
    out = Output()
    storage = _storage(endpoint, credentials)
    with _failures(storage):
        if source.startswith("s3://") and not target.startswith("s3://"):
            _download(out, storage, source, target)
        elif target.startswith("s3://") and not source.startswith("s3://"):
            _upload(out, storage, source, target, content_type)
        else:
            raise click.UsageError("copy between a local file and an s3:// address")


def _download(out: Output, storage: Storage, source: str, target: str) -> None:
    name, key = _split(source)
    bar = None

    def moved(done: int, total: int) -> None:
        nonlocal bar
        if bar is None and (bar := _progress(out, total)) is not None:
            bar.start()
            bar.add_task(key, total=total)
        if bar is not None:
            bar.update(bar.task_ids[0], completed=done)

    if target == "-":  # the object's bytes are the output: no bar, no summary line
        storage.download_to(name, key, sys.stdout.buffer)
        sys.stdout.buffer.flush()
        return
    path = Path(target)
    if path.is_dir():
        path = path / Path(key).name
    try:
        size = storage.download(name, key, str(path), progress=moved)
    finally:
        if bar is not None:
            bar.stop()
    out.line(f"s3://{name}/{key} → {path} ({size} bytes)")


def _upload(
    out: Output, storage: Storage, source: str, target: str, content_type: str | None
) -> None:
    name, key = _split(target)
    if source == "-":
        if not key or key.endswith("/"):
            raise click.UsageError("uploading standard input needs the whole key: s3://BUCKET/KEY")
        etag, sent = storage.upload_from(name, key, sys.stdin.buffer, content_type=content_type)
        out.line(f"- → s3://{name}/{key} ({sent} bytes, ETag {etag})")
        return
    path = Path(source)
    key = key if key and not key.endswith("/") else key + path.name
    total = path.stat().st_size
    bar = _progress(out, total)
    if bar is not None:
        bar.start()
        task = bar.add_task(key, total=total)
    try:
        etag = storage.upload(
            name,
            key,
            str(path),
            content_type=content_type,
            progress=lambda done: bar.update(task, completed=done) if bar else None,
        )
    finally:
        if bar is not None:
            bar.stop()
    out.line(f"{path} → s3://{name}/{key} ({total} bytes, ETag {etag})")


@bucket.command("rm")
@click.argument("url")
@_endpoint
@_credentials
def rm(url: str, endpoint: str | None, credentials: str | None) -> None:
    """Delete the object s3://BUCKET/KEY."""
    out = Output()
    name, key = _split(url)
    storage = _storage(endpoint, credentials)
    with _failures(storage):
        storage.delete(name, key)
    out.line(f"deleted s3://{name}/{key}")


@bucket.command("mb")
@click.argument("url")
@_endpoint
@_credentials
def mb(url: str, endpoint: str | None, credentials: str | None) -> None:
    """Create the bucket s3://BUCKET."""
    out = Output()
    name, _ = _split(url)
    storage = _storage(endpoint, credentials)
    with _failures(storage):
        storage.create_bucket(name)
    out.line(f"made s3://{name}")
