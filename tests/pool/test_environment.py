"""The variables an instance starts with: Lambda's, and Cloud Run's for Cloud Functions style."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from skylet.config import FunctionConfig, RuntimeSettings, endpoint_url
from skylet.pool.environment import lambda_environment

BASE = FunctionConfig(
    name="hello",
    handler="main.hello",
    code_dir=Path("/code/a"),
    environment={"MINE": "1", "AWS_REGION": "mars-1", "K_SERVICE": "spoofed"},
)


def env_of(fn: FunctionConfig) -> dict[str, str]:
    return lambda_environment(
        fn, RuntimeSettings(), log_stream="s", init_type="on-demand", runtime_dir="/opt/python"
    )


def test_lambda_style_gets_lambdas_variables_and_keeps_its_own_except_reserved_ones() -> None:
    env = env_of(BASE)
    assert env["MINE"] == "1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello"
    assert env["_HANDLER"] == "main.hello"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == BASE.region
    assert "FUNCTION_TARGET" not in env
    assert env["K_SERVICE"] == "spoofed"  # not reserved for a Lambda function


def test_the_region_is_the_functions_own_not_the_platforms() -> None:
    env = lambda_environment(
        replace(BASE, region="ap-south-1"),
        RuntimeSettings(region="us-west-2"),
        log_stream="s",
        init_type="on-demand",
        runtime_dir="/opt/python",
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "ap-south-1"


def test_cloud_functions_style_gets_cloud_runs_variables() -> None:
    http = env_of(replace(BASE, style="http"))
    assert http["K_SERVICE"] == http["K_CONFIGURATION"] == "hello"
    assert http["FUNCTION_TARGET"] == "hello"
    assert http["FUNCTION_SIGNATURE_TYPE"] == "http"
    revision = http["K_REVISION"]
    assert revision.startswith("hello-00001-")
    event = env_of(replace(BASE, style="cloudevent", code_dir=Path("/code/b")))
    assert event["FUNCTION_SIGNATURE_TYPE"] == "cloudevent"
    assert event["K_REVISION"] != revision  # new code, new revision


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:9061"),
        ("0.0.0.0", "http://127.0.0.1:9061"),
        ("", "http://127.0.0.1:9061"),
        ("::", "http://[::1]:9061"),
        ("::1", "http://[::1]:9061"),
        ("[::1]", "http://[::1]:9061"),
        ("2001:db8::7", "http://[2001:db8::7]:9061"),
        ("fe80::1%eth0", "http://[fe80::1%25eth0]:9061"),
        ("192.0.2.10", "http://192.0.2.10:9061"),
        ("localhost", "http://localhost:9061"),
    ],
    ids=[
        "an IPv4 address is kept",
        "the IPv4 wildcard becomes IPv4 loopback",
        "no host is the IPv4 loopback",
        "the IPv6 wildcard becomes IPv6 loopback in brackets",
        "an IPv6 address is bracketed",
        "an already bracketed IPv6 address is not bracketed twice",
        "a global IPv6 address is bracketed",
        "an IPv6 zone is escaped as RFC 6874 says",
        "another IPv4 address is kept",
        "a host name is kept",
    ],
)
def test_the_endpoint_url_functions_receive_is_one_they_can_connect_to(host: str, url: str) -> None:
    assert endpoint_url(host, 9061) == url


def test_boto3_accepts_the_endpoint_url_of_an_ipv6_wildcard() -> None:
    import boto3

    client = boto3.client(
        "lambda",
        endpoint_url=endpoint_url("::", 9061),
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    assert client.meta.endpoint_url == "http://[::1]:9061"


def test_a_custom_runtimes_spec_names_its_bootstrap_and_lambda_sets_no_execution_env() -> None:
    from skylet.pool.environment import instance_spec

    fn = replace(BASE, runtime="provided.al2023", handler="anything")
    spec = instance_spec(fn, RuntimeSettings(), provisioned=False, marker=b"m", runtime_dir="/usr")
    assert spec["bootstrap"] == [str(BASE.code_dir / "bootstrap")]
    assert "AWS_EXECUTION_ENV" not in spec["env"] and "bootstrap_error" not in spec
    python = instance_spec(
        BASE, RuntimeSettings(), provisioned=False, marker=b"m", runtime_dir="/usr"
    )
    assert "bootstrap" not in python


def test_a_nodejs_function_without_node_says_what_to_install() -> None:
    from skylet.pool.environment import instance_spec

    fn = replace(BASE, runtime="nodejs20.x", handler="index.handler")
    spec = instance_spec(
        fn, RuntimeSettings(node=None), provisioned=False, marker=b"m", runtime_dir="/usr"
    )
    assert "apt-get install nodejs" in spec["bootstrap_error"]
    assert spec["env"]["AWS_EXECUTION_ENV"] == "AWS_Lambda_nodejs20.x"
    with_node = instance_spec(
        fn,
        RuntimeSettings(node="/usr/bin/node"),
        provisioned=False,
        marker=b"m",
        runtime_dir="/usr",
    )
    assert with_node["bootstrap"][0] == "/usr/bin/node" and "bootstrap_error" not in with_node
