"""``skylet export knative``: the YAML it writes parses back, as Knative Services skylet's own
reader accepts, with the functions' settings; a Dockerfile runs ``skylet serve-function``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from skylet.manifest.knative_serving import load_services
from tests.e2e.conftest import cli, project_dir
from tests.e2e.test_knative_services import SEED

pytestmark = pytest.mark.e2e

MANIFEST = """
service: shop_api
functions:
  echo:
    handler: handlers.echo
    memory_size: 256
    timeout_s: 30
    reserved_concurrency: 5
    provisioned_concurrency: 1
    environment:
      TABLE: orders
  fail:
    handler: handlers.fail
"""


def test_exports_a_service_per_function_and_the_projects_own(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, MANIFEST)
    (directory / "service.yaml").write_text(SEED)
    done = cli("export", "knative", str(directory))
    assert done.returncode == 0, done.stderr
    written = directory / "knative" / "service.yaml"
    documents = list(yaml.safe_load_all(written.read_text()))
    assert [(d["kind"], d["metadata"]["name"]) for d in documents] == [
        ("Service", "echo"),
        ("Service", "fail"),
        ("Service", "go-serverless-service"),
    ]
    echo = documents[0]["spec"]["template"]
    container = echo["spec"]["containers"][0]
    assert container["image"] == "shop-api:latest"
    assert container["command"] == ["skylet"]
    assert container["args"] == ["serve-function", "/app", "echo"]
    assert container["env"] == [{"name": "TABLE", "value": "orders"}]
    assert container["resources"]["limits"]["memory"] == "256Mi"
    assert echo["spec"]["containerConcurrency"] == 1
    assert echo["spec"]["timeoutSeconds"] == 30
    assert echo["metadata"]["annotations"] == {
        "autoscaling.knative.dev/minScale": "1",
        "autoscaling.knative.dev/maxScale": "5",
    }
    # Read back by skylet's Knative reader: every key a Service may have, nothing else.
    services = {s.name: s for s in load_services([written])}
    assert services["echo"].command == ("skylet", "serve-function", "/app", "echo")
    assert services["echo"].memory_mb == 256
    assert (services["echo"].scale.min_scale, services["echo"].scale.max_scale) == (1, 5)
    assert services["go-serverless-service"].scale.scale_down_delay_s == 300
    dockerfile = (directory / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["skylet"]' in dockerfile
    assert 'CMD ["serve-function", "/app"]' in dockerfile
    assert ".skylet/" in (directory / ".dockerignore").read_text()


def test_keeps_a_projects_own_dockerfile(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, MANIFEST)
    (directory / "Dockerfile").write_text("FROM scratch\n")
    out = tmp_path / "out"
    done = cli("export", "knative", str(directory), "--out", str(out), "--image", "r/x:1")
    assert done.returncode == 0, done.stderr
    assert "kept the project's own Dockerfile" in done.stdout
    assert (directory / "Dockerfile").read_text() == "FROM scratch\n"
    first = next(yaml.safe_load_all((out / "service.yaml").read_text()))
    assert first["spec"]["template"]["spec"]["containers"][0]["image"] == "r/x:1"


def test_a_bad_manifest_fails_the_export(tmp_path: Path) -> None:
    directory = project_dir(tmp_path, "service: x\nfunctions:\n  a:\n    handler: 7\n")
    done = cli("export", "knative", str(directory))
    assert done.returncode != 0
    assert "skylet.yaml" in done.stderr
