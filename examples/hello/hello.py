"""A Lambda-style hello world: an API Gateway HTTP API event in, a proxy response out."""

import json


def handler(event, context):
    params = event.get("pathParameters") or {}
    query = event.get("queryStringParameters") or {}
    name = params.get("name") or query.get("name") or event.get("name") or "World"
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": f"Hello, {name}!", "requestId": context.aws_request_id}),
    }
