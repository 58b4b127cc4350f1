"""Metering, pricing and power tuning on a real ``skylet up``: invocations through stock boto3
metered from their REPORT lines (billed duration, init included), GB-seconds by memory and
architecture, provisioned concurrency kept, priced by ``GET /_skylet/cost`` and printed by
``skylet cost``; ``skylet tune`` runs a CPU-bound function at several memory sizes under a
cgroup CPU quota and its duration falls as memory grows."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Server, cli, module_server, stop_server

pytestmark = pytest.mark.e2e

MANIFEST = """
service: priced
functions:
  small:
    handler: handlers.echo
    memory_size: 256
  graviton:
    handler: handlers.echo
    memory_size: 512
    architecture: arm64
  warm:
    handler: handlers.echo
    memory_size: 1024
    provisioned_concurrency: 1
  spin:
    handler: cost_handlers.spin
    memory_size: 1024
"""

server = module_server("cost", MANIFEST)
X86_RATE, ARM_RATE, PC_RATE = 0.0000166667, 0.0000133334, 0.0000041667


def cost(server: Server, query: str) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/_skylet/cost?{query}", timeout=30)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def billed_ms(log_result: str) -> int:
    return int(re.search(r"Billed Duration: (\d+) ms", base64.b64decode(log_result).decode())[1])


def invoke(server: Server, name: str, times: int) -> list[int]:
    """Each invocation's billed duration, from its REPORT line."""
    client: Any = server.lambda_client()
    billed = []
    for n in range(times):
        answer = client.invoke(FunctionName=name, Payload=json.dumps({"n": n}), LogType="Tail")
        assert "FunctionError" not in answer
        billed.append(billed_ms(answer["LogResult"]))
    return billed


def test_each_invocation_is_metered_as_its_report_bills_it(server: Server) -> None:
    billed = invoke(server, "small", 3)
    [row] = cost(server, "period=1h&function=small")["functions"]
    assert row["requests"] == 3
    assert row["billedMs"] == sum(billed)
    assert row["coldStarts"] == 1
    assert row["initMs"] > 0  # the cold start's init is billed with its run
    assert row["gbSeconds"] == pytest.approx(sum(billed) / 1000 * 256 / 1024)
    assert row["sizes"] == [
        {
            "memoryMb": 256,
            "architecture": "x86_64",
            "requests": 3,
            "billedMs": sum(billed),
            "gbSeconds": pytest.approx(row["gbSeconds"]),
            "provisionedGbSeconds": 0.0,
            "provisionedComputeGbSeconds": 0.0,
        }
    ]
    assert row["cost"]["compute"] == pytest.approx(row["gbSeconds"] * X86_RATE)
    assert row["cost"]["requests"] == pytest.approx(3 * 0.20 / 1e6)


def test_an_arm64_function_is_priced_at_graviton_rates(server: Server) -> None:
    invoke(server, "graviton", 2)
    [row] = cost(server, "period=24h&function=graviton")["functions"]
    assert [s["architecture"] for s in row["sizes"]] == ["arm64"]
    assert row["cost"]["compute"] == pytest.approx(row["gbSeconds"] * ARM_RATE)


def test_provisioned_instances_are_metered_while_they_are_kept(server: Server) -> None:
    first = cost(server, "period=1h&function=warm")["functions"]
    second = cost(server, "period=1h&function=warm")["functions"]
    kept = second[0]["provisionedGbSeconds"]
    assert kept > (first[0]["provisionedGbSeconds"] if first else 0.0)
    assert second[0]["requests"] == 0
    assert second[0]["cost"]["provisioned"] == pytest.approx(kept * PC_RATE)


def test_invocations_on_provisioned_instances_are_priced_at_its_duration_rate(
    server: Server,
) -> None:
    invoke(server, "warm", 2)
    [row] = cost(server, "period=1h&function=warm")["functions"]
    assert row["requests"] == 2
    assert row["gbSeconds"] > 0
    assert row["provisionedComputeGbSeconds"] == pytest.approx(row["gbSeconds"])
    assert row["cost"]["compute"] == 0.0  # none of it on demand
    expected = row["provisionedGbSeconds"] * PC_RATE + row["gbSeconds"] * 0.0000097222
    assert row["cost"]["provisioned"] == pytest.approx(expected)


def test_the_total_takes_the_free_tier_off_for_the_month(server: Server) -> None:
    invoke(server, "small", 1)
    month = cost(server, "period=month")
    assert month["freeTier"] is True
    assert month["total"]["cost"]["compute"] == 0.0  # far below 400,000 GB-s
    assert month["total"]["cost"]["freeRequestsUsed"] == month["total"]["requests"]
    day = cost(server, "period=24h")
    assert day["freeTier"] is False
    assert day["total"]["cost"]["total"] > 0


@pytest.mark.parametrize(
    ("query", "named"),
    [("period=2h", "period"), ("profile=mars-1", "profile"), ("freeTier=maybe", "freeTier")],
)
def test_a_bad_parameter_is_a_400_naming_it(server: Server, query: str, named: str) -> None:
    response = httpx.get(f"{server.url}/_skylet/cost?{query}", timeout=10)
    assert response.status_code == 400
    assert named in response.json()["message"]


def test_an_unknown_function_is_a_404(server: Server) -> None:
    response = httpx.get(f"{server.url}/_skylet/cost?function=nobody", timeout=10)
    assert response.status_code == 404


def test_skylet_cost_prints_a_row_per_function_and_the_total(server: Server) -> None:
    invoke(server, "small", 1)
    plain = cli("cost", "--period", "24h", "--endpoint", server.url)
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[0] == "cost over 24h (aws-us-east-1)"
    assert lines[1].split()[:3] == ["function", "requests", "GB-s"]
    assert {line.split()[0] for line in lines[2:]} >= {"small", "total"}
    assert "\x1b[" not in plain.stdout  # piped: no colours

    as_json = cli("cost", "small", "--period", "1h", "--json", "--endpoint", server.url)
    assert as_json.returncode == 0, as_json.stderr
    assert [row["function"] for row in json.loads(as_json.stdout)["functions"]] == ["small"]


def test_skylet_cost_prices_with_a_custom_profile_file(server: Server, tmp_path: Any) -> None:
    invoke(server, "small", 1)
    profile = tmp_path / "pricing.yaml"
    profile.write_text("name: negotiated\nrequests_per_million: 1.0\nx86_64: {gb_second: 0.001}\n")
    done = cli(
        "cost",
        "small",
        "--period",
        "1h",
        "--json",
        "--profile",
        str(profile),
        "--endpoint",
        server.url,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    [row] = document["functions"]
    assert document["profile"] == "negotiated"
    assert row["cost"]["compute"] == pytest.approx(row["gbSeconds"] * 0.001)
    assert row["cost"]["requests"] == pytest.approx(row["requests"] / 1e6)


def test_tuning_runs_each_size_and_duration_falls_with_memory(server: Server) -> None:
    done = cli(
        "tune",
        "spin",
        "--memory",
        "128,512,1769",
        "--invocations",
        "3",
        "--payload",
        '{"rounds": 200000}',
        "--json",
        "--endpoint",
        server.url,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    rows = {r["memoryMb"]: r for r in document["results"]}
    assert sorted(rows) == [128, 512, 1769]
    assert all(r["invocations"] == 3 and r["errors"] == 0 for r in rows.values())
    assert document["cheapest"] in rows and document["fastest"] in rows
    if not document["cpuQuota"]:
        pytest.skip(f"no CPU quota on this machine: {document['cpu']}")
    # 128 MB gets 7 % of a CPU, 512 MB 29 %, 1,769 MB one CPU: ~100 ms of CPU takes ~1.4 s,
    # ~350 ms and ~100 ms.
    assert rows[128]["avgMs"] > 2 * rows[512]["avgMs"] > 2 * rows[1769]["avgMs"]
    assert document["fastest"] == 1769
    # The variants ran beside the function, and are gone; none of them was metered.
    names = [f["name"] for f in httpx.get(f"{server.url}/_skylet/functions").json()]
    assert not [n for n in names if "--tune-" in n]
    assert all("--tune-" not in row["function"] for row in cost(server, "period=1h")["functions"])


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param({"memory": [128]}, "function", id="no-function"),
        pytest.param({"function": "small", "memory": "128"}, "memory", id="memory-not-a-list"),
        pytest.param({"function": "small", "memory": [64]}, "128", id="below-lambdas-128-mb"),
        pytest.param({"function": "small", "memory": [20_000]}, "10240", id="above-10240-mb"),
        pytest.param({"function": "small", "memory": []}, "memory", id="no-size"),
        pytest.param(
            {"function": "small", "memory": [128], "invocations": 0}, "invocations", id="zero"
        ),
        pytest.param(
            {"function": "small", "memory": [128], "invocations": True}, "invocations", id="bool"
        ),
    ],
)
def test_a_bad_tuning_is_a_400_naming_what(server: Server, body: Any, named: str) -> None:
    response = httpx.post(f"{server.url}/_skylet/tune", json=body, timeout=10)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]


def test_tuning_is_posted_and_an_unknown_function_is_a_404(server: Server) -> None:
    assert httpx.get(f"{server.url}/_skylet/tune", timeout=10).status_code == 400
    body = {"function": "nobody", "memory": [128]}
    assert httpx.post(f"{server.url}/_skylet/tune", json=body, timeout=10).status_code == 404
    done = cli("tune", "nobody", "--memory", "128", "--endpoint", server.url)
    assert done.returncode == 4, done.stderr


def test_skylet_tune_prints_the_table_and_its_recommendation(server: Server) -> None:
    done = cli(
        "tune",
        "small",
        "--memory",
        "128,256",
        "--invocations",
        "2",
        "--endpoint",
        server.url,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("small: 2 invocations per size") for line in lines)
    assert lines[-1].startswith("cheapest: ")
    assert "fastest: " in lines[-1]


def test_metered_usage_survives_a_restart(project: Any, serve: Any) -> None:
    directory = project("service: kept\nfunctions:\n  f: {handler: handlers.echo}\n")
    first = serve(directory, "--no-reload")
    billed = invoke(first, "f", 2)
    assert stop_server(first) == 0  # SIGTERM: the last counts written on the way out
    second = serve(directory, "--no-reload")
    [row] = cost(second, "period=1h&function=f")["functions"]
    assert (row["requests"], row["billedMs"]) == (2, sum(billed))
