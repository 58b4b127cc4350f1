"""``skylet export knative``: Knative manifests and a container build context (docs/knative.md)."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

import click

from skylet.cli.common import manifest_path
from skylet.cli.output import Output


@click.group()
def export() -> None:
    """Write the project for another platform."""


@export.command("knative")
@click.argument("directory", default=".", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Where the manifests go (default DIRECTORY/knative).",
)
@click.option(
    "--image",
    help="The image the Services run (default: the project's name; build it from DIRECTORY "
    "with the written Dockerfile).",
)
@click.option("--stage", help="Stage for ${opt:stage} (serverless.yml).")
def knative(directory: str, out: str | None, image: str | None, stage: str | None) -> None:
    """Write Knative Services for the functions of the manifest in DIRECTORY (and its own
    Knative documents), and a Dockerfile that runs them with `skylet serve-function`."""
    from skylet.build.knative_export import documents, kubernetes_name
    from skylet.manifest import load_manifest
    from skylet.manifest.knative import empty_manifest, is_knative
    from skylet.manifest.knative_serving import service_paths

    path = manifest_path(directory)
    if is_knative(path):  # Knative documents instead of a manifest
        manifest = empty_manifest(path)
    else:
        manifest = load_manifest(path, stage=stage, env=MappingProxyType(dict(os.environ)))
    root = Path(directory).resolve()
    target = Path(out).resolve() if out else root / "knative"
    files = documents(
        manifest, service_paths(path), image or f"{kubernetes_name(manifest.service)}:latest"
    )
    target.mkdir(parents=True, exist_ok=True)
    (target / "service.yaml").write_text(files["service.yaml"])
    output = Output()
    for name in ("Dockerfile", ".dockerignore"):
        if (root / name).exists():
            output.line(f"kept the project's own {name}")
        else:
            (root / name).write_text(files[name])
    output.line(f"wrote {target / 'service.yaml'} ({len(manifest.functions)} functions)")
    output.line(f"build context: {root} (Dockerfile); then: kubectl apply -f {target}")
