"""POST /upload: a presigned PUT URL, valid 15 minutes, for uploads/{uuid}/{file_name}.

The request body is ``{"file_name": "cat.png", "file_type": "image/png"}``; the client PUTs
the file to ``upload_url`` with that Content-Type, and S3 then notifies ``process``.
"""

import json
import os
import uuid

import boto3
from botocore.config import Config

# SigV4 URLs (X-Amz-Expires): S3 refuses Signature Version 2 for buckets made since 2020.
s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
EXPIRES_S = 15 * 60


def handler(event, context):
    try:
        request = json.loads(event.get("body") or "")
    except ValueError:
        return _json(400, {"error": "Invalid request: the body is not JSON"})
    if not isinstance(request, dict):
        return _json(400, {"error": "Invalid request: the body is not a JSON object"})
    file_name = request.get("file_name")
    file_type = request.get("file_type")
    if not isinstance(file_name, str) or not file_name or "/" in file_name:
        return _json(400, {"error": "Invalid request: file_name must be a file name"})
    if not isinstance(file_type, str) or "/" not in file_type:
        return _json(400, {"error": "Invalid request: file_type must be a media type"})

    file_id = str(uuid.uuid4())
    key = f"uploads/{file_id}/{file_name}"
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": os.environ["BUCKET"], "Key": key, "ContentType": file_type},
        ExpiresIn=EXPIRES_S,
    )
    return _json(200, {"upload_url": url, "file_id": file_id, "key": key})


def _json(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "*"},
        "body": json.dumps(body),
    }
