"""``skylet export knative``: a project as Knative manifests and a container build context.
Pure but for reading the Service documents' text: ``documents`` returns file name → text.

- ``service.yaml``: a Knative Service per function, running the context's image as
  ``skylet serve-function /app FUNCTION`` (every path to the function, ``/health`` for the
  probes), with the function's environment, ``memorySize`` as ``limits.memory``, ``timeout``
  as ``timeoutSeconds``, ``containerConcurrency: 1`` (Lambda's one invocation per instance),
  ``provisionedConcurrency`` as ``minScale`` and ``reservedConcurrency`` as ``maxScale``; then
  the project's own Knative Service documents, as they were written;
- ``Dockerfile`` and ``.dockerignore`` for the build context (the project's directory).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from skylet.manifest import Manifest
from skylet.manifest.model import FunctionSpec

APP = "/app"
DOCKERFILE = """# Built by `skylet export knative`: the project's functions served by skylet.
FROM python:3.12-slim
WORKDIR {app}
# skylet itself (a wheel or a requirement spec), and the functions' requirements.
ARG SKYLET_SPEC=skylet
RUN pip install --no-cache-dir "$SKYLET_SPEC"
COPY . {app}
RUN if [ -f requirements.txt ]; then pip install --no-cache-dir -r requirements.txt; fi
ENV PORT=8080
EXPOSE 8080
ENTRYPOINT ["skylet"]
CMD ["serve-function", "{app}"]
"""
DOCKERIGNORE = ".skylet/\n.venv/\n__pycache__/\n*.pyc\n.git/\nknative/\n"


def kubernetes_name(name: str) -> str:
    """A function name as a Kubernetes name: lower case, '-' for '_', at most 63."""
    text = re.sub(r"[^a-z0-9-]", "-", name.lower()).strip("-")
    return text[:63].rstrip("-") or "function"


def function_service(fn: FunctionSpec, image: str) -> dict[str, Any]:
    annotations = {"autoscaling.knative.dev/minScale": str(fn.provisioned_concurrency)}
    if fn.reserved_concurrency is not None:
        annotations["autoscaling.knative.dev/maxScale"] = str(fn.reserved_concurrency)
    container: dict[str, Any] = {
        "image": image,
        "command": ["skylet"],
        "args": ["serve-function", APP, fn.key],
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/health"}},
        "resources": {"limits": {"memory": f"{fn.memory_size}Mi"}},
    }
    if fn.environment:
        container["env"] = [{"name": k, "value": v} for k, v in fn.environment.items()]
    return {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": kubernetes_name(fn.name), "namespace": "default"},
        "spec": {
            "template": {
                "metadata": {"annotations": annotations},
                "spec": {
                    "containerConcurrency": 1,
                    "timeoutSeconds": min(600, max(1, round(fn.timeout_s))),
                    "containers": [container],
                },
            }
        },
    }


def documents(manifest: Manifest, service_files: Sequence[Path], image: str) -> dict[str, str]:
    """The files of the export: ``service.yaml``, ``Dockerfile``, ``.dockerignore``."""
    services = [function_service(fn, image) for fn in manifest.functions.values()]
    text = yaml.safe_dump_all(services, sort_keys=False) if services else ""
    for path in service_files:
        own = path.read_text(encoding="utf-8").strip()
        if own:
            text += ("---\n" if text else "") + own.removeprefix("---").lstrip("\n") + "\n"
    return {
        "service.yaml": text,
        "Dockerfile": DOCKERFILE.format(app=APP),
        ".dockerignore": DOCKERIGNORE,
    }
