"""The seed's §8.1 structured logging, written in Python (examples/structured-logging), run
from its serverless.yml: each record is the JSON object the seed shows, with the runtime's
standard keys beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skylet.build.functions import build_functions
from skylet.manifest import load_manifest
from tests.runtime_fixtures import running

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).parents[2] / "examples" / "structured-logging"


async def test_the_seeds_structured_log_line(tmp_path: Path) -> None:
    manifest = load_manifest(EXAMPLE / "serverless.yml")
    functions = await build_functions(manifest, deps_root=tmp_path)
    assert functions[0].logging.json and functions[0].logging.retention_days == 7
    async with running(functions) as invoker:
        result = await invoker.invoke("my-function", b"{}", request_id="abc-123")
    line = next(line for line in result.log.splitlines() if "Processing request" in line)
    record = json.loads(line)
    # The seed's line: {"time":…,"level":"INFO","msg":"Processing request","user_id":
    # "user-123","item_count":5,"request_id":"abc-123","function_name":"my-function",
    # "function_version":"$LATEST"}; Python's runtime names time and msg timestamp, message.
    assert {k: record[k] for k in ("level", "message", "user_id", "item_count")} == {
        "level": "INFO",
        "message": "Processing request",
        "user_id": "user-123",
        "item_count": 5,
    }
    assert (record["request_id"], record["function_name"], record["function_version"]) == (
        "abc-123",
        "my-function",
        "$LATEST",
    )
    assert record["requestId"] == "abc-123" and record["logger"] == "orders"
    assert record["timestamp"].endswith("Z")
