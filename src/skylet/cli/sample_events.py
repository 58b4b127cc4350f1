"""Sample events of the services that trigger Lambda functions, in their wire shapes, for
``skylet generate-event``. Pure: the time (``now``, epoch seconds) and a source of ids are
passed in; the values are skylet's own placeholders (account 000000000000, us-east-1).

S3's and API Gateway's samples are built by the builders skylet's own S3 notifications and
routes use (``s3_record``, ``worker.apigw``), so a sample is what a function here receives."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from skylet import arns
from skylet.aws.s3_notifications import Change, Subscription, s3_record
from skylet.blobs.base import ObjectInfo
from skylet.schedules import scheduled_event as schedules
from skylet.schedules.scheduled_event import envelope
from skylet.wire.http import Trigger
from skylet.worker.apigw import HttpRequest, api_of, v1_event, v2_event

ACCOUNT = arns.ACCOUNT_ID
SOURCE_IP = "198.51.100.7"  # TEST-NET-2 (RFC 5737): an address no client really has
USER_AGENT = "curl/8.5.0"

Event = dict[str, Any]
Ids = Callable[[], str]  # a new UUID string each call


def _iso(now: float) -> str:
    """UTC with milliseconds, as SNS and DynamoDB Streams write times."""
    moment = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{moment.microsecond // 1000:03d}Z"


def s3_put(bucket: str, key: str, *, size: int, region: str, now: float, ids: Ids) -> Event:
    """An ``ObjectCreated:Put`` notification, as skylet's S3 API sends one."""
    request_id = ids().replace("-", "")[:16].upper()
    info = ObjectInfo(key, size, hashlib.md5(key.encode()).hexdigest(), now)
    change = Change(bucket, key, "ObjectCreated:Put", info, SOURCE_IP, request_id)
    subscription = Subscription("", bucket, "s3:ObjectCreated:*", "", "", "skylet-sample")
    record = s3_record(change, subscription, region, now=now, sequencer=f"{int(now * 1000):016X}")
    return {"Records": [record]}


def _request(method: str, path: str, body: str | None, *, host: str, now: float) -> HttpRequest:
    """An HTTPS request from a client, as the gateway would hand it to API Gateway's event
    builders (skylet's own, the ones its routes use)."""
    parts = urlsplit(path)
    raw_path = parts.path or "/"
    headers = [("accept", "*/*"), ("host", host), ("user-agent", USER_AGENT)]
    if body is not None:
        headers.append(("content-type", "application/json"))
    headers.append(("content-length", str(len((body or "").encode()))))
    return HttpRequest(
        method=method,
        raw_path=raw_path,
        path=unquote(raw_path),
        query_string=parts.query,
        headers=tuple(headers),
        body=(body or "").encode(),
        source_ip=SOURCE_IP,
        host=host,
        received_at=now,
        scheme="https",
        port=443,
    )


def _trigger(kind: str, route: str, raw_path: str, *, stage: str, region: str, ids: Ids) -> Trigger:
    api_id = ids().replace("-", "")[:10]
    return Trigger(
        kind=kind,
        route_key=route,
        resource="/{proxy+}",
        raw_path_parameters={"proxy": raw_path.lstrip("/")} if kind == "rest" else {},
        strip_prefix="",
        account_id=ACCOUNT,
        region=region,
        api_id=api_id,
        stage=stage,
        binary_media_types=None,
        request_id=ids() if kind == "rest" else ids().replace("-", "")[:16],
        extended_id=ids().replace("-", "")[:16] if kind == "rest" else "",
    )


def http_api_proxy(
    method: str, path: str, body: str | None, *, stage: str, region: str, now: float, ids: Ids
) -> Event:
    """API Gateway HTTP API's payload format 2.0, for the ``$default`` route."""
    trigger = _trigger("http_api", "$default", path, stage=stage, region=region, ids=ids)
    host = api_of(trigger).domain_name
    return v2_event(_request(method, path, body, host=host, now=now), trigger)


def rest_api_proxy(
    method: str, path: str, body: str | None, *, stage: str, region: str, now: float, ids: Ids
) -> Event:
    """API Gateway REST API's proxy integration (payload format 1.0), for ``/{proxy+}``."""
    raw_path = urlsplit(path).path or "/"
    trigger = _trigger("rest", "ANY /{proxy+}", raw_path, stage=stage, region=region, ids=ids)
    request = _request(method, path, body, host=api_of(trigger).domain_name, now=now)
    # The client's trace id, so that the same time and ids give the same event.
    trace = f"Root=1-{int(now):08x}-{ids().replace('-', '')[:24]}"
    request = request._replace(headers=(*request.headers, ("X-Amzn-Trace-Id", trace)))
    return v1_event(request, trigger)


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
        "eventSourceARN": arns.arn("sqs", queue, region=region),
        "awsRegion": region,
    }
    return {"Records": [record]}


def sns_notification(
    message: str, *, topic: str, subject: str | None, region: str, now: float, ids: Ids
) -> Event:
    """One notification of a topic, as SNS delivers it to a subscribed function."""
    topic_arn = arns.arn("sns", topic, region=region)
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
    stream_label = _iso(now).rstrip("Z")
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
                    arns.arn("dynamodb", f"table/{table}/stream/{stream_label}", region=region)
                ),
            }
        ]
    }


def eventbridge_event(
    source: str, detail_type: str, detail: dict[str, Any], *, region: str, now: float, ids: Ids
) -> Event:
    """An event as an EventBridge rule delivers it."""
    when = datetime.datetime.fromtimestamp(now, datetime.UTC)
    return envelope(
        source, detail_type, detail, event_id=ids(), when=when, region=region, account=ACCOUNT
    )


def scheduled_event(rule: str, *, region: str, now: float, ids: Ids) -> Event:
    """What a schedule rule (``rate(…)``, ``cron(…)``) sends."""
    due = datetime.datetime.fromtimestamp(now, datetime.UTC)
    return schedules.scheduled_event(rule, due=due, event_id=ids(), region=region, account=ACCOUNT)


def parse_detail(text: str) -> dict[str, Any]:
    """``--detail``: a JSON object; ValueError otherwise."""
    detail = json.loads(text)
    if not isinstance(detail, dict):
        raise ValueError("the detail must be a JSON object")
    return detail
