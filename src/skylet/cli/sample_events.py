"""Sample events of the services that trigger Lambda functions, in their wire shapes, for
``skylet generate-event``. Pure: the time (``now``, epoch seconds) and a source of ids are
passed in; the values are skylet's own placeholders (account 000000000000, us-east-1)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

ACCOUNT = "000000000000"
SOURCE_IP = "198.51.100.7"  # TEST-NET-2 (RFC 5737): an address no client really has
USER_AGENT = "curl/8.5.0"

Event = dict[str, Any]
Ids = Callable[[], str]  # a new UUID string each call


def _iso(now: float, *, millis: bool = True) -> str:
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{moment.microsecond // 1000:03d}Z" if millis else f"{text}Z"


def s3_put(bucket: str, key: str, *, size: int, region: str, now: float, ids: Ids) -> Event:
    """An ``ObjectCreated:Put`` notification; the key URL-encoded, as S3 sends it."""
    request_id = ids().replace("-", "")[:16].upper()
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": _iso(now),
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": f"AWS:{ACCOUNT}"},
        "requestParameters": {"sourceIPAddress": SOURCE_IP},
        "responseElements": {
            "x-amz-request-id": request_id,
            "x-amz-id-2": base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode(),
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "skylet-sample",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": ACCOUNT},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe="/"),
                "size": size,
                "eTag": hashlib.md5(key.encode()).hexdigest(),
                "sequencer": f"{int(now * 1000):016X}",
            },
        },
    }
    return {"Records": [record]}


def _split_path(path: str) -> tuple[str, str, dict[str, str]]:
    """``/items/7?color=red`` → (path, raw query, last value of each parameter)."""
    parts = urlsplit(path)
    return parts.path or "/", parts.query, dict(parse_qsl(parts.query))


def http_api_proxy(
    method: str, path: str, body: str | None, *, stage: str, region: str, now: float, ids: Ids
) -> Event:
    """API Gateway HTTP API's payload format 2.0, for the ``$default`` route."""
    raw_path, query, parameters = _split_path(path)
    api_id = ids().replace("-", "")[:10]
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    event: Event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-length": str(len((body or "").encode())),
            "host": domain,
            "user-agent": USER_AGENT,
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "domainName": domain,
            "domainPrefix": api_id,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": USER_AGENT,
            },
            "requestId": base64.b32encode(ids().encode()[:10]).decode().rstrip("="),
            "routeKey": "$default",
            "stage": stage,
            "time": datetime.datetime.fromtimestamp(now, tz=datetime.UTC).strftime(
                "%d/%b/%Y:%H:%M:%S +0000"
            ),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if parameters:
        event["queryStringParameters"] = parameters
    if body is not None:
        event["headers"]["content-type"] = "application/json"
        event["body"] = body
    return event


def rest_api_proxy(
    method: str, path: str, body: str | None, *, stage: str, region: str, now: float, ids: Ids
) -> Event:
    """API Gateway REST API's proxy integration (payload format 1.0), for ``/{proxy+}``."""
    raw_path, _, parameters = _split_path(path)
    api_id = ids().replace("-", "")[:10]
    domain = f"{api_id}.execute-api.{region}.amazonaws.com"
    headers = {
        "Accept": "*/*",
        "Host": domain,
        "User-Agent": USER_AGENT,
        "X-Forwarded-For": SOURCE_IP,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    request_id = ids()
    return {
        "resource": "/{proxy+}",
        "path": raw_path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": parameters or None,
        "multiValueQueryStringParameters": (
            {name: [value] for name, value in parameters.items()} or None
        ),
        "pathParameters": {"proxy": raw_path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": api_id,
            "resourceId": api_id[:6],
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{raw_path}",
            "stage": stage,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id.replace("-", "")[:16],
            "requestTime": datetime.datetime.fromtimestamp(now, tz=datetime.UTC).strftime(
                "%d/%b/%Y:%H:%M:%S +0000"
            ),
            "requestTimeEpoch": int(now * 1000),
            "domainName": domain,
            "domainPrefix": api_id,
            "identity": {
                "sourceIp": SOURCE_IP,
                "userAgent": USER_AGENT,
                "accountId": None,
                "apiKey": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
        },
        "body": body,
        "isBase64Encoded": False,
    }


def sqs_message(body: str, *, queue: str, region: str, now: float, ids: Ids) -> Event:
    """One message as a standard queue's event source mapping delivers it."""
    sent_ms = str(int(now * 1000))
    record = {
        "messageId": ids(),
        "receiptHandle": base64.b64encode(f"skylet-sample {ids()}".encode()).decode(),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": sent_ms,
            "SenderId": f"AIDA{ACCOUNT}SAMPLE",
            "ApproximateFirstReceiveTimestamp": sent_ms,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{queue}",
        "awsRegion": region,
    }
    return {"Records": [record]}


def sns_notification(
    message: str, *, topic: str, subject: str | None, region: str, now: float, ids: Ids
) -> Event:
    """One notification of a topic, as SNS delivers it to a subscribed function."""
    topic_arn = f"arn:aws:sns:{region}:{ACCOUNT}:{topic}"
    subscription = f"{topic_arn}:{ids()}"
    endpoint = f"https://sns.{region}.amazonaws.com"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": ids(),
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": _iso(now),
                    "SignatureVersion": "1",
                    "Signature": base64.b64encode(
                        hashlib.sha256(message.encode()).digest()
                    ).decode(),
                    "SigningCertUrl": f"{endpoint}/SimpleNotificationService-sample.pem",
                    "UnsubscribeUrl": (
                        f"{endpoint}/?Action=Unsubscribe&SubscriptionArn={subscription}"
                    ),
                    "MessageAttributes": {},
                },
            }
        ]
    }


def dynamodb_update(table: str, *, region: str, now: float, ids: Ids) -> Event:
    """A MODIFY record of a table's stream (NEW_AND_OLD_IMAGES), in DynamoDB's typed JSON."""
    stream_label = _iso(now, millis=True).rstrip("Z")
    keys = {"id": {"S": "item-1"}}
    return {
        "Records": [
            {
                "eventID": ids().replace("-", ""),
                "eventName": "MODIFY",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": region,
                "dynamodb": {
                    "ApproximateCreationDateTime": int(now),
                    "Keys": keys,
                    "OldImage": {**keys, "count": {"N": "1"}, "tags": {"SS": ["new"]}},
                    "NewImage": {**keys, "count": {"N": "2"}, "tags": {"SS": ["new", "seen"]}},
                    "SequenceNumber": f"{int(now * 1000)}00000000000000",
                    "SizeBytes": 64,
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": (
                    f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}/stream/{stream_label}"
                ),
            }
        ]
    }


def eventbridge_event(
    source: str, detail_type: str, detail: dict[str, Any], *, region: str, now: float, ids: Ids
) -> Event:
    """An event as an EventBridge rule delivers it."""
    return {
        "version": "0",
        "id": ids(),
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": _iso(now, millis=False),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def scheduled_event(rule: str, *, region: str, now: float, ids: Ids) -> Event:
    """What a schedule rule (``rate(…)``, ``cron(…)``) sends."""
    event = eventbridge_event("aws.events", "Scheduled Event", {}, region=region, now=now, ids=ids)
    event["resources"] = [f"arn:aws:events:{region}:{ACCOUNT}:rule/{rule}"]
    return event


def parse_detail(text: str) -> dict[str, Any]:
    """``--detail``: a JSON object; ValueError otherwise."""
    detail = json.loads(text)
    if not isinstance(detail, dict):
        raise ValueError("the detail must be a JSON object")
    return detail
