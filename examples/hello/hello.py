"""A Lambda-style hello world: what `make run` serves."""

import json


def handler(event, context):
    name = (event or {}).get("name", "World")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"Hello, {name}!", "requestId": context.aws_request_id}),
    }
