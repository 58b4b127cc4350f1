"""The Lambda control plane of a real ``skylet up``: functions, account settings, versions and
aliases, driven by a stock boto3 client and the AWS CLI. One server for the module; each test
that publishes uses a function of its own, whose code it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Server, project_dir, start_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: control
functions:
  echo:
    handler: handlers.echo
    memory_size: 256
    timeout_s: 5
    environment:
      GREETING: hello
  reserved:
    handler: handlers.echo
    reserved_concurrency: 2
  published:
    handler: code_published.handler
  aliased:
    handler: code_aliased.handler
  weighted:
    handler: code_weighted.handler
  restarted:
    handler: code_restarted.handler
"""
ARN = "arn:aws:lambda:us-east-1:000000000000:function"
AWS_CLI = Path(sys.executable).parent / "aws"


def _write_code(directory: Path, function: str, value: str) -> None:
    """The function's code: it answers ``value`` and the version it runs as."""
    (directory / f"code_{function}.py").write_text(
        "def handler(event, context):\n"
        f"    return {{'code': {value!r}, 'version': context.function_version,"
        " 'arn': context.invoked_function_arn}\n"
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = project_dir(tmp_path_factory.mktemp("lambda-control"), MANIFEST)
    for function in ("published", "aliased", "weighted", "restarted"):
        _write_code(directory, function, "one")
    running = start_server(directory, "--no-reload")
    yield running
    stop_server(running)


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[Any]:
    lambda_client: Any = server.lambda_client()
    yield lambda_client
    lambda_client.close()


def _invoke(client: Any, name: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    response = client.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    assert "FunctionError" not in response
    return response["ExecutedVersion"], json.loads(response["Payload"].read())


def _error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error: dict[str, Any] = caught.value.response
    return error


# -- functions and the account ------------------------------------------------------------


def test_list_functions_pages_with_marker_and_max_items(client: Any) -> None:
    first = client.list_functions(MaxItems=2)
    assert len(first["Functions"]) == 2
    assert "NextMarker" in first
    pages = client.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 4})
    names = [fn["FunctionName"] for page in pages for fn in page["Functions"]]
    assert names == sorted(["echo", "reserved", "published", "aliased", "weighted", "restarted"])


def test_get_function_configuration_describes_the_function(client: Any) -> None:
    config = client.get_function_configuration(FunctionName="echo")
    assert config["FunctionName"] == "echo"
    assert config["FunctionArn"] == f"{ARN}:echo"
    assert config["Handler"] == "handlers.echo"
    assert (config["MemorySize"], config["Timeout"]) == (256, 5)
    assert config["Environment"]["Variables"]["GREETING"] == "hello"
    assert (config["State"], config["LastUpdateStatus"]) == ("Active", "Successful")
    assert config["Version"] == "$LATEST"
    assert config["PackageType"] == "Zip"
    assert config["CodeSize"] > 0
    assert len(config["CodeSha256"]) == 44  # base64 of 32 bytes
    assert config["EphemeralStorage"] == {"Size": 512}
    assert config["TracingConfig"] == {"Mode": "PassThrough"}
    assert config["LoggingConfig"]["LogGroup"] == "/aws/lambda/echo"
    assert config["Runtime"].startswith("python3.")


def test_get_function_reports_code_and_reserved_concurrency(client: Any) -> None:
    function = client.get_function(FunctionName=f"{ARN}:reserved")
    assert function["Configuration"]["FunctionName"] == "reserved"
    assert function["Code"]["RepositoryType"] == "S3"
    assert function["Concurrency"] == {"ReservedConcurrentExecutions": 2}


def test_an_unknown_function_is_resource_not_found(client: Any) -> None:
    error = _error(client.get_function_configuration, FunctionName="nope")
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == f"Function not found: {ARN}:nope"


def test_get_account_settings_reports_limits_and_usage(client: Any) -> None:
    settings = client.get_account_settings()
    limit, usage = settings["AccountLimit"], settings["AccountUsage"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["UnreservedConcurrentExecutions"] == 998
    assert limit["CodeSizeUnzipped"] == 250 * 1024 * 1024
    assert usage["FunctionCount"] == 6
    assert usage["TotalCodeSize"] > 0


def test_an_operation_skylet_does_not_serve_is_not_implemented(client: Any) -> None:
    error = _error(client.get_policy, FunctionName="echo")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_the_aws_cli_lists_the_functions(server: Server) -> None:
    if not AWS_CLI.exists():
        pytest.skip("the AWS CLI is not installed (pip install awscli)")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [str(AWS_CLI), "lambda", "list-functions", "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = {fn["FunctionName"] for fn in json.loads(done.stdout)["Functions"]}
    assert {"echo", "reserved", "published"} <= names


# -- versions and aliases -----------------------------------------------------------------


def test_a_published_version_keeps_running_its_code_after_the_code_changes(
    client: Any, server: Server
) -> None:
    published = client.publish_version(FunctionName="published", Description="first")
    assert published["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert (published["Version"], published["Description"]) == ("1", "first")
    assert published["FunctionArn"] == f"{ARN}:published:1"
    again = client.publish_version(FunctionName="published")
    assert again["Version"] == "1"  # nothing changed since: no new version
    _write_code(server.directory, "published", "two")

    assert _invoke(client, "published:1") == (
        "1",
        {"code": "one", "version": "1", "arn": f"{ARN}:published:1"},
    )
    assert _invoke(client, "published")[1]["code"] == "two"
    assert _invoke(client, f"{ARN}:published", Qualifier="1")[0] == "1"
    versions = client.list_versions_by_function(FunctionName="published")["Versions"]
    assert [(v["Version"], v["FunctionArn"]) for v in versions] == [
        ("$LATEST", f"{ARN}:published:$LATEST"),
        ("1", f"{ARN}:published:1"),
    ]
    config = client.get_function_configuration(FunctionName="published", Qualifier="1")
    assert config["CodeSha256"] == published["CodeSha256"]
    assert (
        config["CodeSha256"]
        != client.get_function_configuration(FunctionName="published")["CodeSha256"]
    )
    error = _error(client.invoke, FunctionName="published:7", Payload=b"{}")
    assert error["Error"]["Message"] == f"Function not found: {ARN}:published:7"


def test_aliases_are_created_read_updated_listed_and_deleted(client: Any, server: Server) -> None:
    client.publish_version(FunctionName="aliased")
    _write_code(server.directory, "aliased", "two")
    assert client.publish_version(FunctionName="aliased")["Version"] == "2"

    created = client.create_alias(FunctionName="aliased", Name="live", FunctionVersion="1")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == f"{ARN}:aliased:live"
    assert _invoke(client, "aliased:live") == (
        "1",
        {"code": "one", "version": "1", "arn": f"{ARN}:aliased:live"},
    )
    assert _invoke(client, f"{ARN}:aliased:live")[0] == "1"
    queued = client.invoke(FunctionName="aliased:live", InvocationType="Event", Payload=b"{}")
    assert queued["StatusCode"] == 202
    assert queued["Payload"].read() == b""  # read: its pooled connection goes back to the pool
    unknown = _error(client.invoke, FunctionName="aliased:nope", InvocationType="Event")
    assert unknown["ResponseMetadata"]["HTTPStatusCode"] == 404

    conflict = _error(client.create_alias, FunctionName="aliased", Name="live", FunctionVersion="2")
    assert conflict["Error"]["Code"] == "ResourceConflictException"
    assert conflict["ResponseMetadata"]["HTTPStatusCode"] == 409

    updated = client.update_alias(
        FunctionName="aliased", Name="live", FunctionVersion="2", Description="now two"
    )
    assert updated["RevisionId"] != created["RevisionId"]
    assert client.get_alias(FunctionName="aliased", Name="live")["FunctionVersion"] == "2"
    assert _invoke(client, "aliased:live")[1]["code"] == "two"
    stale = _error(
        client.update_alias,
        FunctionName="aliased",
        Name="live",
        FunctionVersion="1",
        RevisionId=created["RevisionId"],
    )
    assert stale["Error"]["Code"] == "PreconditionFailedException"

    client.create_alias(FunctionName="aliased", Name="edge", FunctionVersion="$LATEST")
    listed = client.list_aliases(FunctionName="aliased")["Aliases"]
    assert [(a["Name"], a["FunctionVersion"]) for a in listed] == [
        ("edge", "$LATEST"),
        ("live", "2"),
    ]
    assert [
        a["Name"]
        for a in client.list_aliases(FunctionName="aliased", FunctionVersion="2")["Aliases"]
    ] == ["live"]

    deleted = client.delete_alias(FunctionName="aliased", Name="edge")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    missing = _error(client.get_alias, FunctionName="aliased", Name="edge")
    assert missing["Error"]["Code"] == "ResourceNotFoundException"
    assert missing["Error"]["Message"] == f"Cannot find alias arn: {ARN}:aliased:edge"
    gone = _error(client.invoke, FunctionName="aliased", Qualifier="edge", Payload=b"{}")
    assert gone["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_an_alias_with_weights_routes_between_two_versions(client: Any, server: Server) -> None:
    client.publish_version(FunctionName="weighted")
    _write_code(server.directory, "weighted", "two")
    client.publish_version(FunctionName="weighted")
    client.create_alias(
        FunctionName="weighted",
        Name="canary",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}},
    )
    alias = client.get_alias(FunctionName="weighted", Name="canary")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.5}}

    seen = {}
    for _ in range(100):  # both versions missed in 100 draws: 2 ** -99
        version, answer = _invoke(client, "weighted:canary")
        seen[version] = answer["code"]
    assert seen == {"1": "one", "2": "two"}

    invalid = _error(
        client.update_alias,
        FunctionName="weighted",
        Name="canary",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )
    assert invalid["Error"]["Code"] == "InvalidParameterValueException"


def test_versions_and_aliases_survive_a_restart(client: Any, server: Server) -> None:
    client.publish_version(FunctionName="restarted")
    client.create_alias(FunctionName="restarted", Name="live", FunctionVersion="1")
    _write_code(server.directory, "restarted", "two")
    client.close()  # its pooled connection would outlive the server it points at
    stop_server(server)
    again = start_server(server.directory, "--no-reload")
    restarted: Any = again.lambda_client()
    try:
        versions = restarted.list_versions_by_function(FunctionName="restarted")["Versions"]
        assert [v["Version"] for v in versions] == ["$LATEST", "1"]
        assert _invoke(restarted, "restarted:live") == (
            "1",
            {"code": "one", "version": "1", "arn": f"{ARN}:restarted:live"},
        )
        assert _invoke(restarted, "restarted")[1]["code"] == "two"
        assert restarted.publish_version(FunctionName="restarted")["Version"] == "2"
    finally:
        restarted.close()
        stop_server(again)
