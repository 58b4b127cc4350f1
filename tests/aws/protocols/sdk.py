"""The SDK's side of the wire, for the codec tests: botocore's own client serializers make the
requests and its own parsers read the responses, so a test compares with what boto3 does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from skylet.aws.protocols.models import Loaded, ServiceModels
from skylet.aws.protocols.types import Request, Response

#: The query traits SQS's model had before it moved to json (older SDKs still send them):
#: enough of them for the tests' operations.
SQS_QUERY = {
    "operations": {
        "SendMessage": {"output": {"resultWrapper": "SendMessageResult"}},
        "ReceiveMessage": {"output": {"resultWrapper": "ReceiveMessageResult"}},
        "GetQueueAttributes": {"output": {"resultWrapper": "GetQueueAttributesResult"}},
    },
    "shapes": {
        "SendMessageRequest": {
            "members": {
                "MessageAttributes": {"locationName": "MessageAttribute"},
                "MessageSystemAttributes": {"locationName": "MessageSystemAttribute"},
            }
        },
        "MessageBodyAttributeMap": {
            "key": {"locationName": "Name"},
            "value": {"locationName": "Value"},
        },
        "MessageBodySystemAttributeMap": {
            "key": {"locationName": "Name"},
            "value": {"locationName": "Value"},
        },
        "MessageSystemAttributeMap": {
            "key": {"locationName": "Name"},
            "value": {"locationName": "Value"},
        },
        "QueueAttributeMap": {"key": {"locationName": "Name"}, "value": {"locationName": "Value"}},
        "ReceiveMessageRequest": {
            "members": {
                "AttributeNames": {"locationName": "AttributeName"},
                "MessageAttributeNames": {"locationName": "MessageAttributeName"},
            }
        },
        "AttributeNameList": {"member": {"locationName": "AttributeName"}},
        "MessageAttributeNameList": {"member": {"locationName": "MessageAttributeName"}},
        "MessageList": {"member": {"locationName": "Message"}},
        "Message": {
            "members": {
                "Attributes": {"locationName": "Attribute"},
                "MessageAttributes": {"locationName": "MessageAttribute"},
            }
        },
        "GetQueueAttributesResult": {"members": {"Attributes": {"locationName": "Attribute"}}},
    },
}

ENDPOINT = "https://example.amazonaws.com"


def load(models: ServiceModels, name: str, protocol: str) -> Loaded:
    """The model as the codecs use it; SQS in query with its legacy traits."""
    if name == "sqs" and protocol == "query":
        loaded = models.load(name, overlay=SQS_QUERY, extra_protocols=("query",))
    else:
        loaded = models.load(name)
    assert loaded is not None
    return loaded


def client_request(
    model: ServiceModel, operation: str, params: dict[str, Any], protocol: str
) -> Request:
    """The request botocore's client serializer makes for the operation, as skylet reads it."""
    serializer = create_serializer(protocol, include_validation=True)
    request_dict = serializer.serialize_to_request(params, model.operation_model(operation))
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    elif not isinstance(body, bytes):
        body = body.read()
    headers = tuple(
        (k, v.decode() if isinstance(v, bytes) else v) for k, v in prepared.headers.items()
    )
    return Request(prepared.method, url.path or "/", url.query, headers, body)


def client_parse(
    model: ServiceModel, operation: str, response: Response, protocol: str
) -> dict[str, Any]:
    """What botocore's parser reads from a response (ResponseMetadata left out)."""
    parser = create_parser(protocol)
    headers: dict[str, str] = {}
    for name, value in response.headers:
        headers[name] = value
    parsed: dict[str, Any] = parser.parse(
        {
            "status_code": response.status,
            "headers": _CaseInsensitive(headers),
            "body": response.body,
        },
        model.operation_model(operation).output_shape,
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


class _CaseInsensitive(dict[str, str]):
    """Headers as botocore's HTTP layer hands them to parsers (names in any case)."""

    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in headers.items())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)
