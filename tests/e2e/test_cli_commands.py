"""``skylet invoke``, ``logs``, ``invocations`` and ``bucket`` against a real server: where
payloads come from, JSON output, ``--endpoint-url``, ``-`` for standard streams, exit statuses."""

from __future__ import annotations

import base64
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, cli, free_port, module_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: commands
functions:
  echo:
    handler: handlers.echo
    environment:
      FROM_MANIFEST: manifest
      KEPT: kept
  fail:
    handler: handlers.fail
"""

server = module_server("commands", MANIFEST)


@pytest.fixture(scope="module")
def s3_env(server: Server) -> dict[str, str]:
    """The bucket command's environment: the server by --endpoint-url only, test credentials."""
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "SKYLET_ENDPOINT": ""}
    env["AWS_ENDPOINT_URL_S3"] = ""
    return env


def event_of(done: subprocess.CompletedProcess[str]) -> object:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["event"]


def test_a_piped_event_is_read_from_standard_input(server: Server) -> None:
    done = cli("invoke", "echo", "--endpoint-url", server.url, input='{"piped": 1}')
    assert event_of(done) == {"piped": 1}


def test_path_dash_and_the_aws_clis_file_prefix_are_read(server: Server, tmp_path: Path) -> None:
    dashed = cli("invoke", "echo", "-p", "-", "--endpoint-url", server.url, input="[1, 2]")
    assert event_of(dashed) == [1, 2]
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    prefixed = cli("invoke", "echo", "-p", f"file://{event}", "--endpoint-url", server.url)
    assert event_of(prefixed) == {"from": "file"}


def test_no_event_and_an_empty_standard_input_send_an_empty_object(server: Server) -> None:
    assert event_of(cli("invoke", "echo", "--endpoint-url", server.url)) == {}


def test_a_payload_that_is_not_json_is_a_usage_error_status_2(server: Server) -> None:
    done = cli("invoke", "echo", "--endpoint-url", server.url, input="{not json")
    assert done.returncode == 2
    assert "not JSON" in done.stderr


def test_a_generated_event_pipes_into_invoke(server: Server) -> None:
    event = cli("generate-event", "sqs", "receive-message", "--body", "order 42")
    assert event.returncode == 0, event.stderr
    done = cli("invoke", "echo", "--endpoint-url", server.url, input=event.stdout)
    assert event_of(done)["Records"][0]["body"] == "order 42"  # type: ignore[index]


def test_invoke_json_prints_the_aws_clis_answer_with_the_payload(server: Server) -> None:
    done = cli("invoke", "fail", "--json", "--tail", "--endpoint-url", server.url)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "REPORT RequestId" in base64.b64decode(answer["LogResult"]).decode()
    assert answer["Payload"]["errorType"] == "ValueError"


def test_invoke_outfile_takes_the_payload(server: Server, tmp_path: Path) -> None:
    outfile = tmp_path / "response.json"
    done = cli(
        "invoke", "echo", "-d", '{"a": 1}', "--json", "-o", str(outfile), "--endpoint", server.url
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    assert json.loads(outfile.read_text())["event"] == {"a": 1}


def test_logs_json_prints_one_entry_a_line(server: Server) -> None:
    cli("invoke", "echo", "--endpoint-url", server.url)
    done = cli("logs", "echo", "--json", "--endpoint-url", server.url)
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stdout.splitlines()]
    assert entries and {"function", "timestamp", "requestId", "text"} <= entries[-1].keys()
    assert entries[-1]["function"] == "echo"
    assert "REPORT RequestId" in entries[-1]["text"]


def test_invocations_accept_the_endpoint_url_and_say_not_found_with_4(server: Server) -> None:
    listed = cli("invocations", "echo", "--json", "--endpoint-url", server.url)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    assert cli("logs", "nope", "--endpoint-url", server.url).returncode == 4
    assert cli("invocations", "nope", "--endpoint-url", server.url).returncode == 4


@pytest.mark.parametrize(
    "args",
    [
        ["invoke", "echo"],
        ["invoke", "echo", "--async"],
        ["logs", "echo"],
        ["invocations", "echo"],
        ["bucket", "ls"],
    ],
    ids=["invoke", "invoke_async", "logs", "invocations", "bucket_ls"],
)
def test_a_server_that_is_not_there_is_status_5(args: list[str], s3_env: dict[str, str]) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = cli(*args, "--endpoint-url", nowhere, env=s3_env)
    assert done.returncode == 5, done.stderr
    assert "cannot reach" in done.stderr and "Traceback" not in done.stderr


def test_bucket_cp_dash_uploads_standard_input_and_downloads_to_standard_output(
    server: Server, s3_env: dict[str, str]
) -> None:
    url = ["--endpoint-url", server.url]
    assert cli("bucket", "mb", "s3://dash-bucket", *url, env=s3_env).returncode == 0
    up = cli("bucket", "cp", "-", "s3://dash-bucket/in/piped.txt", *url, env=s3_env, input="hi\n")
    assert up.returncode == 0, up.stderr
    down = cli("bucket", "cp", "s3://dash-bucket/in/piped.txt", "-", *url, env=s3_env)
    assert down.returncode == 0, down.stderr
    assert down.stdout == "hi\n"
    missing = cli("bucket", "cp", "s3://dash-bucket/in/none.txt", "-", *url, env=s3_env)
    assert missing.returncode == 4
    assert "NoSuchKey" in missing.stderr
    assert not Path("-").exists()


def test_bucket_ls_json_has_sizes_and_dates(server: Server, s3_env: dict[str, str]) -> None:
    url = ["--endpoint-url", server.url]
    cli("bucket", "mb", "s3://json-bucket", *url, env=s3_env)
    cli("bucket", "cp", "-", "s3://json-bucket/a.txt", *url, env=s3_env, input="12345")
    done = cli("bucket", "ls", "s3://json-bucket", "--json", *url, env=s3_env)
    assert done.returncode == 0, done.stderr
    [listed] = json.loads(done.stdout)
    assert (listed["Key"], listed["Size"]) == ("a.txt", 5)
    assert datetime.datetime.fromisoformat(listed["LastModified"]).tzinfo is not None
    assert listed["ETag"]
    buckets = json.loads(cli("bucket", "ls", "--json", *url, env=s3_env).stdout)
    assert {"Name": "json-bucket"} in buckets


def test_python_dash_m_skylet_is_the_command(server: Server) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "skylet", "invoke", "echo", "--endpoint-url", server.url],
        capture_output=True,
        text=True,
        input="",
        timeout=60,
        env=os.environ,
    )
    assert event_of(done) == {}


def test_invoke_local_takes_env_vars_and_env(server: Server, tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(
        json.dumps({"Parameters": {"EVERY": "one", "KEPT": "all"}, "echo": {"FROM_MANIFEST": "f"}})
    )
    done = cli(
        "invoke", "echo", "--local", "--dir", str(server.directory),
        "-e", str(env_file), "--env", "EVERY=cli",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    env = json.loads(done.stdout)["env"]
    assert (env["EVERY"], env["FROM_MANIFEST"], env["KEPT"]) == ("cli", "f", "all")


def test_env_vars_without_local_is_a_usage_error(server: Server) -> None:
    done = cli("invoke", "echo", "--env", "A=1", "--endpoint-url", server.url)
    assert done.returncode == 2
