"""Small services for the tests: a few operations each, over plain values."""

from __future__ import annotations

import asyncio
import hashlib

from skylet.aws.service import Params, RequestContext, Service
from skylet.errors import ServiceError
from tests.aws.protocols.sdk import SQS_QUERY

MISSING_QUEUE = "https://sqs.us-east-1.amazonaws.com/000000000000/missing"


class Queues(Service):
    service_name = "sqs"
    extra_protocols = ("query",)
    overlay = SQS_QUERY

    def send_message(self, request: Params, context: RequestContext) -> Params:
        if request["QueueUrl"] == MISSING_QUEUE:
            raise ServiceError(
                "QueueDoesNotExist",
                "The specified queue does not exist.",
                query_code="AWS.SimpleQueueService.NonExistentQueue",
            )
        body = request["MessageBody"].encode()
        return {"MessageId": context.request_id, "MD5OfMessageBody": hashlib.md5(body).hexdigest()}

    async def receive_message(self, request: Params, context: RequestContext) -> Params:
        await asyncio.sleep(0)
        return {"Messages": [{"MessageId": "m", "Body": f"{context.protocol} {context.host}"}]}

    def get_queue_attributes(self, request: Params, context: RequestContext) -> Params:
        raise RuntimeError("the store is on fire")

    def delete_message(self, request: Params, context: RequestContext) -> None:
        return None


class Topics(Service):
    service_name = "sns"

    def publish(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError("NotFound", "Topic does not exist")


class Tables(Service):
    service_name = "dynamodb"

    def put_item(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError(
            "ConditionalCheckFailedException",
            "The conditional request failed",
            fields={"Item": request["Item"]},
        )

    def query(self, request: Params, context: RequestContext) -> Params:
        return {"Items": [], "Count": 0}


class Metrics(Service):
    service_name = "cloudwatch"

    def put_metric_data(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError("InvalidParameterValueException", "The value ∞ is not valid")

    def get_metric_data(self, request: Params, context: RequestContext) -> Params:
        return {"MetricDataResults": []}


class Functions(Service):
    service_name = "lambda"

    def get_function(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError(
            "ResourceNotFoundException", f"Function not found: {request['FunctionName']}"
        )

    def list_functions(self, request: Params, context: RequestContext) -> Params:
        return {"Functions": []}


class Buckets(Service):
    service_name = "s3"

    def get_object(self, request: Params, context: RequestContext) -> Params:
        raise ServiceError("NoSuchKey", "The specified key does not exist.", fields={"Key": "k"})

    def create_bucket(self, request: Params, context: RequestContext) -> Params:
        return {"Location": f"/{request['Bucket']}"}

    def put_object(self, request: Params, context: RequestContext) -> Params:
        return {"ETag": '"e"'}
