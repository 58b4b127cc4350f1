"""What SQS's botocore model lost when SQS moved from the query protocol to json: the names its
query requests and responses use, and the legacy error codes. Pure data.

SQS still answers query requests (older SDKs, the AWS CLI v1 of before 2023, hand-written
clients). Its current model writes json names only, so skylet's query codec reads and writes
the query names from ``QUERY_OVERLAY`` (merged for query requests only: these names must not
rename json members), and both protocols take the error traits of ``OVERLAY`` (the codes an
SDK of either era expects: json carries them in ``x-amzn-query-error``).
"""

from __future__ import annotations

from typing import Any

from skylet.aws.protocols.models import Overlay

XML_NAMESPACE = "http://queue.amazonaws.com/doc/2012-11-05/"

#: Lists: their members' element name (``AttributeName.1``, ``<Message>``).
_LIST_MEMBERS = {
    "AWSAccountIdList": "AWSAccountId",
    "ActionNameList": "ActionName",
    "AttributeNameList": "AttributeName",
    "BatchResultErrorEntryList": "BatchResultErrorEntry",
    "BinaryList": "BinaryListValue",
    "ChangeMessageVisibilityBatchRequestEntryList": "ChangeMessageVisibilityBatchRequestEntry",
    "ChangeMessageVisibilityBatchResultEntryList": "ChangeMessageVisibilityBatchResultEntry",
    "DeleteMessageBatchRequestEntryList": "DeleteMessageBatchRequestEntry",
    "DeleteMessageBatchResultEntryList": "DeleteMessageBatchResultEntry",
    "ListMessageMoveTasksResultEntryList": "ListMessageMoveTasksResultEntry",
    "MessageAttributeNameList": "MessageAttributeName",
    "MessageList": "Message",
    "MessageSystemAttributeList": "MessageSystemAttributeName",
    "QueueUrlList": "QueueUrl",
    "SendMessageBatchRequestEntryList": "SendMessageBatchRequestEntry",
    "SendMessageBatchResultEntryList": "SendMessageBatchResultEntry",
    "StringList": "StringListValue",
    "TagKeyList": "TagKey",
}

#: Flattened maps: (the map's own element name or None, the key's, the value's).
_MAPS = {
    "MessageBodyAttributeMap": (None, "Name", "Value"),
    "MessageBodySystemAttributeMap": (None, "Name", "Value"),
    "MessageSystemAttributeMap": ("Attribute", "Name", "Value"),
    "QueueAttributeMap": ("Attribute", "Name", "Value"),
    "TagMap": ("Tag", "Key", "Value"),
}

#: Structure members named in the singular (``Attribute.1.Name``, ``MessageAttribute.1.Value``).
_MEMBERS = {
    "CreateQueueRequest": {"Attributes": "Attribute", "tags": "Tag"},
    "SetQueueAttributesRequest": {"Attributes": "Attribute"},
    "GetQueueAttributesResult": {"Attributes": "Attribute"},
    "ListQueueTagsResult": {"Tags": "Tag"},
    "Message": {"Attributes": "Attribute", "MessageAttributes": "MessageAttribute"},
    "SendMessageRequest": {
        "MessageAttributes": "MessageAttribute",
        "MessageSystemAttributes": "MessageSystemAttribute",
    },
    "SendMessageBatchRequestEntry": {
        "MessageAttributes": "MessageAttribute",
        "MessageSystemAttributes": "MessageSystemAttribute",
    },
    "MessageAttributeValue": {
        "StringListValues": "StringListValue",
        "BinaryListValues": "BinaryListValue",
    },
    "MessageSystemAttributeValue": {
        "StringListValues": "StringListValue",
        "BinaryListValues": "BinaryListValue",
    },
}

#: Operations whose answer the query protocol wraps in ``<{Operation}Result>``.
_WRAPPED = (
    "CancelMessageMoveTask",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessageBatch",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "ReceiveMessage",
    "SendMessage",
    "SendMessageBatch",
    "StartMessageMoveTask",
)

#: The error shapes' legacy codes and statuses: (code, HTTP status).
ERROR_CODES = {
    "BatchEntryIdsNotDistinct": ("AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400),
    "BatchRequestTooLong": ("AWS.SimpleQueueService.BatchRequestTooLong", 400),
    "EmptyBatchRequest": ("AWS.SimpleQueueService.EmptyBatchRequest", 400),
    "InvalidBatchEntryId": ("AWS.SimpleQueueService.InvalidBatchEntryId", 400),
    "MessageNotInflight": ("AWS.SimpleQueueService.MessageNotInflight", 400),
    "OverLimit": ("OverLimit", 403),
    "PurgeQueueInProgress": ("AWS.SimpleQueueService.PurgeQueueInProgress", 403),
    "QueueDeletedRecently": ("AWS.SimpleQueueService.QueueDeletedRecently", 400),
    "QueueDoesNotExist": ("AWS.SimpleQueueService.NonExistentQueue", 400),
    "QueueNameExists": ("QueueAlreadyExists", 400),
    "ResourceNotFoundException": ("ResourceNotFoundException", 404),
    "TooManyEntriesInBatchRequest": ("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400),
    "UnsupportedOperation": ("AWS.SimpleQueueService.UnsupportedOperation", 400),
}


def _query_overlay() -> Overlay:
    shapes: dict[str, Any] = {}
    for name, member in _LIST_MEMBERS.items():
        shapes[name] = {"member": {"locationName": member}}
    for name, (own, key, value) in _MAPS.items():
        traits: dict[str, Any] = {"key": {"locationName": key}, "value": {"locationName": value}}
        if own is not None:
            traits["locationName"] = own
        shapes[name] = traits
    for name, members in _MEMBERS.items():
        shapes[name] = {"members": {m: {"locationName": wire} for m, wire in members.items()}}
    operations = {name: {"output": {"resultWrapper": f"{name}Result"}} for name in _WRAPPED}
    return {"metadata": {"xmlNamespace": XML_NAMESPACE}, "operations": operations, "shapes": shapes}


def _error_overlay() -> Overlay:
    return {
        "shapes": {
            name: {"error": {"code": code, "httpStatusCode": status, "senderFault": True}}
            for name, (code, status) in ERROR_CODES.items()
        }
    }


QUERY_OVERLAY = _query_overlay()
OVERLAY = _error_overlay()
