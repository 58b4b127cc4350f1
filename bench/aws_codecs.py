"""The protocol codecs' cost: reading a model, and one SQS SendMessage parsed and its answer
written (json and query), beside botocore's own client serializer for the same request as a
yardstick. No sockets, no service: the codecs alone.

    python -m bench.aws_codecs
"""

from __future__ import annotations

import time
from typing import Any

from botocore.serialize import create_serializer

from bench.common import machine
from skylet.aws.protocols import CODECS
from skylet.aws.protocols.models import ServiceModels
from skylet.aws.protocols.types import Request
from tests.aws.protocols.sdk import client_request, load

ROUNDS = 20_000
SEND = {
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/000000000000/orders",
    "MessageBody": "x" * 256,
    "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "order"}},
}
RESULT = {"MessageId": "219f8380-5770-4cc2-8c3e-5c715e145f5e", "MD5OfMessageBody": "0" * 32}


def per_call_us(call: Any, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(rounds):
            call()
        best = min(best, (time.perf_counter() - start) / rounds)
    return best * 1e6


def main() -> None:
    print(machine())
    for name in ("sqs", "dynamodb", "cloudwatch", "lambda", "s3"):
        start = time.perf_counter()
        ServiceModels().load(name)
        print(f"load {name:<11} {1000 * (time.perf_counter() - start):7.1f} ms")
    models = ServiceModels()
    for protocol in ("json", "query"):
        loaded = load(models, "sqs", protocol)
        operation = loaded.model.operation_model("SendMessage")
        request: Request = client_request(loaded.model, "SendMessage", SEND, protocol)
        codec = CODECS[protocol]

        def round_trip() -> None:
            codec.select(loaded, request)  # noqa: B023
            codec.parse(operation, request)  # noqa: B023
            codec.serialize(operation, RESULT, "rid")  # noqa: B023

        serializer = create_serializer(protocol, include_validation=False)
        skylet_us = per_call_us(round_trip)
        botocore_us = per_call_us(lambda: serializer.serialize_to_request(SEND, operation))  # noqa: B023
        print(
            f"sqs SendMessage {protocol:<5} select+parse+serialize {skylet_us:6.1f} µs"
            f"   (botocore's client serializer alone: {botocore_us:6.1f} µs, "
            f"ratio {skylet_us / botocore_us:4.2f})"
        )


if __name__ == "__main__":
    main()
