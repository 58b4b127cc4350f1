"""Knative Service documents: the seed's service.yaml read, bad ones refused naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest.knative_serving import (
    PARSERS,
    SERVING,
    cpu_millis,
    has_services,
    load_services,
    memory_mb,
)

SEED = """apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: go-serverless-service
  namespace: default
spec:
  template:
    metadata:
      annotations:
        skylet.dev/command: "./server --verbose"
        autoscaling.knative.dev/minScale: "0"
        autoscaling.knative.dev/maxScale: "10"
        autoscaling.knative.dev/target: "100"
        autoscaling.knative.dev/scaleDownDelay: "5m"
    spec:
      containers:
        - image: gcr.io/my-project/go-serverless:latest
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: "info"
          resources:
            requests:
              memory: "64Mi"
              cpu: "100m"
            limits:
              memory: "128Mi"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "service.yaml"
    path.write_text(text)
    return path


def test_reads_the_seeds_service(tmp_path: Path) -> None:
    (svc,) = load_services([write(tmp_path, SEED)])
    assert (svc.name, svc.namespace, svc.command) == (
        "go-serverless-service",
        "default",
        ("./server", "--verbose"),
    )
    assert svc.environment == {"LOG_LEVEL": "info"}
    assert (svc.port, svc.memory_mb, svc.cpu_millis) == (8080, 128, None)
    assert (svc.scale.max_scale, svc.scale.target, svc.scale.scale_down_delay_s) == (10, 70, 300)
    assert svc.readiness.kind == "tcp" and svc.liveness is None
    assert svc.cwd == tmp_path.resolve()


def test_the_containers_command_and_args_run_without_the_annotation(tmp_path: Path) -> None:
    text = SEED.replace('        skylet.dev/command: "./server --verbose"\n', "").replace(
        "        - image: gcr.io/my-project/go-serverless:latest\n",
        "        - image: x\n          command: [python3]\n          args: [app.py]\n",
    )
    (svc,) = load_services([write(tmp_path, text)])
    assert svc.command == ("python3", "app.py")


def test_probes_are_read(tmp_path: Path) -> None:
    text = SEED.replace(
        "          ports:\n",
        "          readinessProbe:\n            httpGet: {path: /health, port: 8080}\n"
        "            initialDelaySeconds: 2\n            periodSeconds: 3\n"
        "          livenessProbe:\n            httpGet: {path: /live}\n"
        "            failureThreshold: 5\n          ports:\n",
    )
    (svc,) = load_services([write(tmp_path, text)])
    assert (svc.readiness.path, svc.readiness.initial_delay_s, svc.readiness.period_s) == (
        "/health",
        2,
        3,
    )
    assert svc.liveness is not None
    assert (svc.liveness.path, svc.liveness.period_s, svc.liveness.failure_threshold) == (
        "/live",
        10,
        5,
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        pytest.param(
            '        skylet.dev/command: "./server --verbose"\n',
            "",
            "service.yaml:16: Service go-serverless-service: spec.template.spec.containers.0.image:"
            " skylet runs no container image",
            id="a service without a command names the image line",
        ),
        pytest.param(
            "      containers:",
            "      containerConcurrency: -1\n      containers:",
            "containerConcurrency: -1 (allowed: a whole number from 0 to 1000)",
            id="a negative containerConcurrency is refused",
        ),
        pytest.param(
            'memory: "128Mi"',
            'memory: "lots"',
            "'lots' is not a memory quantity",
            id="a memory limit that is no quantity is refused",
        ),
        pytest.param(
            'autoscaling.knative.dev/maxScale: "10"',
            'autoscaling.knative.dev/maxScale: "ten"',
            "autoscaling.knative.dev/max-scale: 'ten' is not a number",
            id="an annotation's bad value names the annotation",
        ),
        pytest.param(
            "          ports:",
            "          volumeMounts: []\n          ports:",
            "containers.0.volumeMounts: unknown key",
            id="an unknown container key is refused",
        ),
        pytest.param(
            "  name: go-serverless-service",
            "  name: Go_Service",
            "is not a Kubernetes name",
            id="a name that is not a Kubernetes name is refused",
        ),
    ],
)
def test_refuses(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in SEED
    with pytest.raises(ConfigError) as error:
        load_services([write(tmp_path, SEED.replace(old, new))])
    assert message in str(error.value)


def test_two_services_of_one_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a second Service 'go-serverless-service'"):
        load_services([write(tmp_path, SEED + "---\n" + SEED)])


def test_other_kinds_are_left_to_the_eventing_loader(tmp_path: Path) -> None:
    broker = "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: default}\n"
    path = write(tmp_path, broker + "---\n" + SEED)
    assert [s.name for s in load_services([path])] == ["go-serverless-service"]
    assert has_services(path)
    assert not has_services(write(tmp_path, broker))


def test_the_parser_is_one_entry_of_a_kinds_table() -> None:
    assert set(PARSERS) == {(SERVING, "Service")}


@pytest.mark.parametrize(
    ("text", "mb"), [("128Mi", 128), ("1Gi", 1024), ("500M", 477), ("1048576", 1), ("64Mi", 64)]
)
def test_memory_quantities(text: str, mb: int) -> None:
    assert memory_mb(text) == mb


@pytest.mark.parametrize(("text", "millis"), [("100m", 100), ("0.5", 500), ("2", 2000)])
def test_cpu_quantities(text: str, millis: int) -> None:
    assert cpu_millis(text) == millis
