"""``skylet bucket ls|cp|rm``: object storage from the command line, with progress bars."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

from skylet.cli.output import Output
from skylet.storage import Storage, StorageError

#: Transfers at least this large show a progress bar (on a terminal).
PROGRESS_FROM_BYTES = 8 << 20


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


@click.group()
def bucket() -> None:
    """Buckets and objects of skylet's S3-compatible storage."""


_endpoint = click.option(
    "--endpoint",
    envvar=["AWS_ENDPOINT_URL_S3", "SKYLET_ENDPOINT"],
    help="The server (default http://127.0.0.1:9000).",
)


@bucket.command("ls")
@click.argument("url", required=False)
@_endpoint
def ls(url: str | None, endpoint: str | None) -> None:
    """List buckets, or the keys under s3://BUCKET[/PREFIX]."""
    out = Output()
    storage = Storage(endpoint)
    try:
        if url is None:
            rows = [[name] for name in storage.buckets()]
            out.table("buckets", ["name"], rows)
            return
        name, prefix = _split(url)
        for key in storage.list(name, prefix):
            out.line(key)
    except (StorageError, OSError) as error:
        out.error(str(error))
        sys.exit(1)


@bucket.command("cp")
@click.argument("source")
@click.argument("target")
@click.option("--content-type", help="The object's Content-Type when uploading.")
@_endpoint
def cp(source: str, target: str, content_type: str | None, endpoint: str | None) -> None:
    """Copy a local file to s3://BUCKET/KEY, or an object to a local file."""
    out = Output()
    storage = Storage(endpoint)
    try:
        if source.startswith("s3://") and not target.startswith("s3://"):
            name, key = _split(source)
            path = Path(target)
            if path.is_dir():
                path = path / Path(key).name
            bar = None

            def moved(done: int, total: int) -> None:
                nonlocal bar
                if bar is None and (bar := _progress(out, total)) is not None:
                    bar.start()
                    bar.add_task(key, total=total)
                if bar is not None:
                    bar.update(bar.task_ids[0], completed=done)

            try:
                size = storage.download(name, key, str(path), progress=moved)
            finally:
                if bar is not None:
                    bar.stop()
            out.line(f"s3://{name}/{key} → {path} ({size} bytes)")
        elif target.startswith("s3://") and not source.startswith("s3://"):
            name, key = _split(target)
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
        else:
            raise click.UsageError("copy between a local file and an s3:// address")
    except (StorageError, OSError) as error:
        out.error(str(error))
        sys.exit(1)


@bucket.command("rm")
@click.argument("url")
@_endpoint
def rm(url: str, endpoint: str | None) -> None:
    """Delete the object s3://BUCKET/KEY."""
    out = Output()
    name, key = _split(url)
    try:
        Storage(endpoint).delete(name, key)
    except StorageError as error:
        out.error(str(error))
        sys.exit(1)
    out.line(f"deleted s3://{name}/{key}")


@bucket.command("mb")
@click.argument("url")
@_endpoint
def mb(url: str, endpoint: str | None) -> None:
    """Create the bucket s3://BUCKET."""
    out = Output()
    name, _ = _split(url)
    try:
        Storage(endpoint).create_bucket(name)
    except StorageError as error:
        out.error(str(error))
        sys.exit(1)
    out.line(f"made s3://{name}")
