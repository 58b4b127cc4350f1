"""Every kind of manifest error names the file, the line, the key path, the bad value and what
is allowed: ``<file>:<line>: <key path>: <message>``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from skylet.errors import ConfigError
from skylet.manifest import load_manifest


def case(name: str, text: str, prefix: str, fragment: str) -> object:
    """One error case: the id reads as the mistake the manifest makes."""
    return pytest.param(text, prefix, fragment, id=name)


FN = "service: svc\nfunctions:\n  api:\n    handler: app.main\n"
"""Lines 1-4 of most cases: a valid function `api`; cases append keys at line 5."""
STRICT = "configValidationMode: error\n"
"""Appended to a case about an unknown key: the framework's default mode only warns."""

SERVERLESS_CASES = [
    # -- YAML ------------------------------------------------------------------------------
    case(
        "yaml syntax error",
        "service: svc\nfunctions:\n  api: [\n",
        "serverless.yml:4: ",
        "expected the node content",
    ),
    case(
        "duplicate key",
        "service: a\nservice: b\n",
        "serverless.yml:2: ",
        "duplicate key 'service' (first defined on line 1)",
    ),
    case(
        "unknown yaml tag",
        "service: !Foo x\n",
        "serverless.yml:1: ",
        "unknown YAML tag !Foo (allowed: !Ref, !GetAtt",
    ),
    case(
        "getatt without attribute",
        "service: svc\ncustom:\n  x: !GetAtt Table\n",
        "serverless.yml:3: custom.x: ",
        "has no attribute (allowed: LogicalId.Attribute)",
    ),
    case(
        "join with one argument",
        "service: svc\ncustom:\n  x: !Join [a]\n",
        "serverless.yml:3: custom.x: ",
        "!Join takes 2 argument(s), got 1",
    ),
    case(
        "long form ref with a list",
        "service: svc\ncustom:\n  x: {Ref: [a, b]}\n",
        "serverless.yml:3: custom.x: ",
        "!Ref takes 1 argument(s), got 2",
    ),
    case(
        "top level is not a mapping",
        "- just\n- a list\n",
        "serverless.yml:1: (top level): ",
        "must be a mapping",
    ),
    # -- variables -------------------------------------------------------------------------
    case(
        "unset environment variable without default",
        "service: svc\nprovider:\n  environment:\n    DB: ${env:DB_URL}\n",
        "serverless.yml:4: provider.environment.DB: ",
        "cannot resolve ${env:DB_URL}: environment variable DB_URL is not set",
    ),
    case(
        "missing cli option without default",
        "service: svc\ncustom:\n  n: ${opt:size}\n",
        "serverless.yml:3: custom.n: ",
        "CLI option --size was not given, and it has no default",
    ),
    case(
        "two variables referring to each other",
        "service: svc\ncustom:\n  a: ${self:custom.b}\n  b: ${self:custom.a}\n",
        "serverless.yml:4: custom.b: ",
        "variable cycle: custom.a → custom.b → custom.a",
    ),
    case(
        "variable referring to its own ancestor",
        "service: svc\ncustom:\n  a: ${self:custom}\n",
        "serverless.yml:3: custom.a: ",
        "variable cycle: custom → custom.a → custom",
    ),
    case(
        "self reference to a missing key",
        "service: svc\ncustom:\n  a: ${self:custom.nope}\n",
        "serverless.yml:3: custom.a: ",
        "custom.nope does not exist in serverless.yml",
    ),
    case(
        "vault source is unavailable",
        "service: svc\ncustom:\n  a: ${vault:x}\n",
        "serverless.yml:3: custom.a: ",
        "variable source 'vault' is not available in skylet, and it has no default",
    ),
    case(
        "unknown variable source",
        "service: svc\ncustom:\n  a: ${bogus:x}\n",
        "serverless.yml:3: custom.a: ",
        "unknown variable source 'bogus' (allowed: self, opt, env",
    ),
    case(
        "unquoted default",
        "service: svc\ncustom:\n  a: ${opt:stage, dev}\n",
        "serverless.yml:3: custom.a: ",
        "default 'dev' is not valid (allowed: a quoted string",
    ),
    case(
        "mapping embedded in a string",
        "service: svc\ncustom:\n  m: {k: v}\n  a: x-${self:custom.m}\n",
        "serverless.yml:4: custom.a: ",
        "resolves to a mapping, which cannot be embedded in a string",
    ),
    case(
        "unterminated variable",
        "service: svc\ncustom:\n  a: ${opt:stage\n",
        "serverless.yml:3: custom.a: ",
        "malformed variable: '${opt:stage' has no closing '}'",
    ),
    case(
        "ssm source without default",
        "service: svc\ncustom:\n  a: ${ssm:/db/url}\n",
        "serverless.yml:3: custom.a: ",
        "variable source 'ssm' is not available in skylet",
    ),
    case(
        "unknown sls variable",
        "service: svc\ncustom:\n  a: ${sls:instanceId}\n",
        "serverless.yml:3: custom.a: ",
        "unknown sls variable 'instanceId' (allowed: stage)",
    ),
    case(
        "missing file without default",
        "service: svc\ncustom:\n  a: ${file(./nope.yml)}\n",
        "serverless.yml:3: custom.a: ",
        "file ./nope.yml does not exist",
    ),
    case(
        "javascript file variable",
        "service: svc\ncustom:\n  a: ${file(./x.js):fn}\n",
        "serverless.yml:3: custom.a: ",
        "(allowed: .yml, .yaml or .json files)",
    ),
    # -- top level and provider ------------------------------------------------------------
    case(
        "service with a space",
        "service: my service\n",
        "serverless.yml:1: service: ",
        "'my service' does not have the expected form (allowed: letters, digits",
    ),
    case(
        "provider other than aws",
        "service: svc\nprovider:\n  name: google\n",
        "serverless.yml:3: provider.name: ",
        "'google' is not supported (allowed: aws)",
    ),
    case(
        "stage with a space",
        "service: svc\nprovider:\n  stage: 'no spaces'\n",
        "serverless.yml:3: provider.stage: ",
        "'no spaces' does not have the expected form",
    ),
    case(
        "unknown config validation mode",
        "service: svc\nconfigValidationMode: loud\n",
        "serverless.yml:2: configValidationMode: ",
        "(allowed: error, warn, off)",
    ),
    case(
        "provider memory out of range",
        "service: svc\nprovider:\n  memorySize: 99999\nfunctions:\n  api:\n    handler: app.main\n",
        "serverless.yml:3: provider.memorySize: ",
        "99999 is out of range (allowed: 128\u201310240)",
    ),
    case(
        "provider environment that is a list",
        "service: svc\nprovider:\n  environment: [A, B]\n",
        "serverless.yml:3: provider.environment: ",
        "is not a mapping of variable names",
    ),
    # -- functions -------------------------------------------------------------------------
    case(
        "memory that is not an integer",
        FN + "    memorySize: big\n",
        "serverless.yml:5: functions.api.memorySize: ",
        "'big' is not an integer (allowed: 128\u201310240)",
    ),
    case(
        "memory below the minimum",
        FN + "    memorySize: 64\n",
        "serverless.yml:5: functions.api.memorySize: ",
        "64 is out of range (allowed: 128\u201310240)",
    ),
    case(
        "memory given as a boolean",
        FN + "    memorySize: true\n",
        "serverless.yml:5: functions.api.memorySize: ",
        "true is not a number (allowed: 128\u201310240)",
    ),
    case(
        "timeout above fifteen minutes",
        FN + "    timeout: 901\n",
        "serverless.yml:5: functions.api.timeout: ",
        "901 is out of range (allowed: 1\u2013900)",
    ),
    case(
        "negative reserved concurrency",
        FN + "    reservedConcurrency: -1\n",
        "serverless.yml:5: functions.api.reservedConcurrency: ",
        "-1 is out of range (allowed: ≥ 0)",
    ),
    case(
        "provisioned above reserved concurrency",
        FN + "    reservedConcurrency: 2\n    provisionedConcurrency: 5\n",
        "serverless.yml:6: functions.api.provisionedConcurrency: ",
        "5 exceeds the reserved concurrency 2",
    ),
    case(
        "three retry attempts",
        FN + "    maximumRetryAttempts: 3\n",
        "serverless.yml:5: functions.api.maximumRetryAttempts: ",
        "3 is out of range (allowed: 0\u20132)",
    ),
    case(
        "event age below a minute",
        FN + "    maximumEventAge: 30\n",
        "serverless.yml:5: functions.api.maximumEventAge: ",
        "30 is out of range (allowed: 60\u201321600)",
    ),
    case(
        "misspelled function key",
        FN + "    memorysize: 512\n" + STRICT,
        "serverless.yml:5: functions.api.memorysize: ",
        "unknown key 'memorysize' (did you mean 'memorySize'? allowed:",
    ),
    case(
        "misspelled destination key",
        FN + "    destinations:\n      onSucces: api\n" + STRICT,
        "serverless.yml:6: functions.api.destinations.onSucces: ",
        "did you mean 'onSuccess'?",
    ),
    case(
        "destination naming no function",
        FN + "    destinations:\n      onFailure: nowhere\n",
        "serverless.yml:6: functions.api.destinations.onFailure: ",
        "'nowhere' is not a function in this manifest (allowed: a function key (api) or an ARN)",
    ),
    case(
        "reserved environment variable",
        FN + "    environment:\n      AWS_REGION: eu-west-1\n",
        "serverless.yml:6: functions.api.environment.AWS_REGION: ",
        "AWS_REGION is reserved by the Lambda runtime",
    ),
    case(
        "environment variable name starting with a digit",
        FN + "    environment:\n      1BAD: x\n",
        "serverless.yml:6: functions.api.environment.1BAD: ",
        "'1BAD' is not a valid variable name",
    ),
    case(
        "environment value that is a mapping",
        FN + "    environment:\n      NESTED: {a: 1}\n",
        "serverless.yml:6: functions.api.environment.NESTED: ",
        "a mapping is not a valid value (allowed: a string, number, boolean or intrinsic)",
    ),
    case(
        "scheduled provisioned concurrency that is not a number",
        FN
        + (
            "    provisionedConcurrencySchedules:\n"
            "      - schedule: cron(0 8 * * ? *)\n"
            "        provisionedConcurrency: many\n"
        ),
        (
            "serverless.yml:7:"
            " functions.api.provisionedConcurrencySchedules[0].provisionedConcurrency: "
        ),
        "'many' is not an integer (allowed: ≥ 0)",
    ),
    case(
        "go binary as handler",
        "service: svc\nfunctions:\n  api:\n    handler: bin/api\n",
        "serverless.yml:4: functions.api.handler: ",
        "'bin/api' is not a Python handler (allowed: module.function or path/to/module.function)",
    ),
    case(
        "missing handler",
        "service: svc\nfunctions:\n  api:\n    memorySize: 256\n",
        "serverless.yml:3: functions.api.handler: ",
        "is required (allowed: module.function",
    ),
    case(
        "function given as a string",
        "service: svc\nfunctions:\n  api: handler.main\n",
        "serverless.yml:3: functions.api: ",
        "'handler.main' is not a function definition",
    ),
    case(
        "container image function",
        "service: svc\nfunctions:\n  api:\n    image: myimage\n",
        "serverless.yml:4: functions.api.image: ",
        "container image functions are not supported",
    ),
    case(
        "deployed name used twice",
        "service: svc\nfunctions:\n  a:\n    handler: x.y\n  b:\n    handler: x.y\n    name: a\n",
        "serverless.yml:7: functions.b.name: ",
        "'a' is already the name or key of function 'a'",
    ),
    # -- events ----------------------------------------------------------------------------
    case(
        "websocket event",
        FN + "    events:\n      - websocket: $connect\n",
        "serverless.yml:6: functions.api.events[0].websocket: ",
        (
            "unknown event kind 'websocket' (a Serverless event skylet"
            " does not run) (allowed: http, httpApi, s3, schedule, sqs, sns, eventBridge,"
            " cloudEvent; recognised but not run yet: stream)"
        ),
    ),
    case(
        "misspelled event kind",
        FN + "    events:\n      - htpp: GET /\n",
        "serverless.yml:6: functions.api.events[0].htpp: ",
        (
            "unknown event kind 'htpp' (did you mean 'http'?) (allowed: http, httpApi, s3,"
            " schedule, sqs, sns, eventBridge, cloudEvent;"
        ),
    ),
    case(
        "event with two kinds",
        FN + "    events:\n      - {http: GET /, sqs: arn:aws:sqs:r:1:q}\n",
        "serverless.yml:6: functions.api.events[0]: ",
        "is not an event (a mapping with one key, the event kind) "
        "(allowed: http, httpApi, s3, schedule, sqs, sns, eventBridge, cloudEvent;",
    ),
    case(
        "events that are not a list",
        FN + "    events: {http: GET /}\n",
        "serverless.yml:5: functions.api.events: ",
        "is not a list of events",
    ),
    case(
        "http method that does not exist",
        FN + "    events:\n      - http:\n          path: /x\n          method: FETCH\n",
        "serverless.yml:8: functions.api.events[0].http.method: ",
        (
            "'FETCH' is not one of the allowed values (allowed: GET,"
            " POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY)"
        ),
    ),
    case(
        "http event without path",
        FN + "    events:\n      - http:\n          method: get\n",
        "serverless.yml:6: functions.api.events[0].http.path: ",
        "is required",
    ),
    case(
        "greedy path parameter in the middle",
        FN + "    events:\n      - http:\n          path: /a/{proxy+}/b\n          method: get\n",
        "serverless.yml:7: functions.api.events[0].http.path: ",
        "a greedy {proxy+} must be the last path segment",
    ),
    case(
        "negative cors max age",
        FN
        + (
            "    events:\n"
            "      - http:\n"
            "          path: /x\n"
            "          method: get\n"
            "          cors:\n"
            "            maxAge: -5\n"
        ),
        "serverless.yml:10: functions.api.events[0].http.cors.maxAge: ",
        "-5 is out of range (allowed: ≥ 0)",
    ),
    case(
        "misspelled http key",
        FN
        + (
            "    events:\n"
            "      - http:\n"
            "          path: /x\n"
            "          method: get\n"
            "          pathh: /y\n"
        )
        + STRICT,
        "serverless.yml:9: functions.api.events[0].http.pathh: ",
        "did you mean 'path'?",
    ),
    case(
        "http api method that does not exist",
        FN + "    events:\n      - httpApi: FETCH /x\n",
        "serverless.yml:6: functions.api.events[0].httpApi: ",
        "'FETCH' is not an HTTP method (allowed: *, GET",
    ),
    case(
        "s3 event type that does not exist",
        FN
        + (
            "    events:\n"
            "      - s3:\n"
            "          bucket: photos\n"
            "          event: s3:ObjectCreated:Upload\n"
        ),
        "serverless.yml:8: functions.api.events[0].s3.event: ",
        "'s3:ObjectCreated:Upload' is not an S3 event type (allowed: s3:ObjectCreated:*, ",
    ),
    case(
        "s3 bucket name with capitals",
        FN + "    events:\n      - s3: My_Bucket\n",
        "serverless.yml:6: functions.api.events[0].s3: ",
        "'My_Bucket' is not a valid bucket name",
    ),
    case(
        "two s3 prefix rules",
        FN
        + (
            "    events:\n"
            "      - s3:\n"
            "          bucket: photos\n"
            "          rules:\n"
            "            - prefix: a/\n"
            "            - prefix: b/\n"
        ),
        "serverless.yml:8: functions.api.events[0].s3.rules: ",
        "more than one prefix rule (allowed: one prefix, one suffix)",
    ),
    case(
        "unknown s3 rule",
        FN
        + (
            "    events:\n"
            "      - s3:\n"
            "          bucket: photos\n"
            "          rules:\n"
            "            - middle: a\n"
        ),
        "serverless.yml:9: functions.api.events[0].s3.rules[0].middle: ",
        "unknown key 'middle'",
    ),
    case(
        "stream starting position that does not exist",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          arn: arn:aws:kinesis:us-east-1:1:stream/s\n"
            "          startingPosition: OLDEST\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.startingPosition: ",
        "'OLDEST' is not one of the allowed values (allowed: TRIM_HORIZON, LATEST, AT_TIMESTAMP)",
    ),
    case(
        "stream of unknown type",
        FN + "    events:\n      - stream: !ImportValue shared-stream\n",
        "serverless.yml:6: functions.api.events[0].stream: ",
        "type is required (allowed: dynamodb, kinesis)",
    ),
    case(
        "stream batch size zero",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          arn:"
            " arn:aws:dynamodb:us-east-1:1:table/t/stream/x\n"
            "          batchSize: 0\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.batchSize: ",
        "0 is out of range (allowed: 1\u201310000)",
    ),
    case(
        "stream record age below a minute",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          arn: arn:aws:kinesis:r:1:stream/s\n"
            "          maximumRecordAgeInSeconds: 10\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.maximumRecordAgeInSeconds: ",
        "10 is out of range (allowed: -1, or 60\u2013604800)",
    ),
    case(
        "stream on success destination",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          arn: arn:aws:kinesis:r:1:stream/s\n"
            "          destinations:\n"
            "            onSuccess: x\n"
        )
        + STRICT,
        "serverless.yml:9: functions.api.events[0].stream.destinations.onSuccess: ",
        "unknown key 'onSuccess' (allowed: onFailure)",
    ),
    case(
        "rate with a singular unit",
        FN + "    events:\n      - schedule: rate(5 minute)\n",
        "serverless.yml:6: functions.api.events[0].schedule: ",
        (
            "'rate(5 minute)' is not a valid schedule expression: use"
            " 'minutes' for a value other than 1"
        ),
    ),
    case(
        "cron with both day fields",
        FN
        + (
            "    events:\n"
            "      - schedule:\n"
            "          rate:\n"
            "            - rate(1 hour)\n"
            "            - cron(0 1 * * * *)\n"
        ),
        "serverless.yml:9: functions.api.events[0].schedule.rate[1]: ",
        "exactly one of day-of-month and day-of-week must be '?'",
    ),
    case(
        "cron hour out of range",
        FN + "    events:\n      - schedule:\n          rate: cron(0 25 * * ? *)\n",
        "serverless.yml:7: functions.api.events[0].schedule.rate[0]: ",
        "hours field '25': 25 is out of range 0\u201323",
    ),
    case(
        "sqs batch size given as a boolean",
        FN
        + (
            "    events:\n"
            "      - sqs:\n"
            "          arn: arn:aws:sqs:r:1:q\n"
            "          batchSize: true\n"
        ),
        "serverless.yml:8: functions.api.events[0].sqs.batchSize: ",
        "true is not a number (allowed: 1\u201310000)",
    ),
    case(
        "sqs batch above ten without a window",
        FN
        + "    events:\n      - sqs:\n          arn: arn:aws:sqs:r:1:q\n          batchSize: 100\n",
        "serverless.yml:6: functions.api.events[0].sqs: ",
        "batch size 100 needs a batching window of at least 1 second",
    ),
    case(
        "sqs arn that is a number",
        FN + "    events:\n      - sqs:\n          arn: 42\n",
        "serverless.yml:7: functions.api.events[0].sqs.arn: ",
        "42 is not a string or an intrinsic",
    ),
    case(
        "sns without topic",
        FN + "    events:\n      - sns:\n          displayName: d\n",
        "serverless.yml:6: functions.api.events[0].sns: ",
        "an sns event needs arn or topicName",
    ),
    case(
        "eventbridge without pattern or schedule",
        FN + "    events:\n      - eventBridge:\n          eventBus: bus\n",
        "serverless.yml:6: functions.api.events[0].eventBridge: ",
        "needs exactly one of pattern and schedule",
    ),
    case(
        "cloudevent attribute in capitals",
        FN
        + (
            "    events:\n"
            "      - cloudEvent:\n"
            "          filter:\n"
            "            attributes:\n"
            "              Type: x\n"
        ),
        "serverless.yml:8: functions.api.events[0].cloudEvent.filter.attributes: ",
        "'Type' is not a CloudEvents attribute name",
    ),
    case(
        "cloudevent filter dialect that does not exist",
        FN
        + "    events:\n      - cloudEvent:\n          filters:\n            - regex: {type: x}\n",
        "serverless.yml:7: functions.api.events[0].cloudEvent.filters: ",
        "'regex' is not a filter dialect (allowed: exact, prefix, suffix, all, any, not, cesql)",
    ),
    case(
        "cloudevent backoff delay that is not iso 8601",
        FN
        + "    events:\n      - cloudEvent:\n          delivery:\n            backoffDelay: 5s\n",
        "serverless.yml:8: functions.api.events[0].cloudEvent.delivery.backoffDelay: ",
        "'5s' is not an ISO 8601 duration",
    ),
    # -- events against declared resources -------------------------------------------------
    case(
        "dynamodb stream from a table without a stream",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          type: dynamodb\n"
            "          arn: !GetAtt T.StreamArn\n"
            "resources:\n"
            "  Resources:\n"
            "    T:\n"
            "      Type: AWS::DynamoDB::Table\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.arn: ",
        (
            "!GetAtt T.StreamArn points at table T, which has no"
            " StreamSpecification (allowed: a table with"
            " StreamSpecification.StreamViewType)"
        ),
    ),
    case(
        "dynamodb stream from a queue",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          type: dynamodb\n"
            "          arn: !GetAtt Q.Arn\n"
            "resources:\n"
            "  Resources:\n"
            "    Q:\n"
            "      Type: AWS::SQS::Queue\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.arn: ",
        (
            "!GetAtt Q.Arn points at AWS::SQS::Queue Q (allowed: !GetAtt"
            " Q.StreamArn of an AWS::DynamoDB::Table)"
        ),
    ),
    case(
        "dynamodb stream from a ref of the table",
        FN
        + (
            "    events:\n"
            "      - stream:\n"
            "          type: dynamodb\n"
            "          arn: {Ref: T}\n"
            "resources:\n"
            "  Resources:\n"
            "    T:\n"
            "      Type: AWS::DynamoDB::Table\n"
            "      Properties:\n"
            "        StreamSpecification: {StreamViewType: KEYS_ONLY}\n"
        ),
        "serverless.yml:8: functions.api.events[0].stream.arn: ",
        "!Ref T is not a stream ARN (allowed: !GetAtt T.StreamArn",
    ),
    case(
        "a bucket resource whose name S3 refuses",
        FN
        + (
            "resources:\n"
            "  Resources:\n"
            "    Photos:\n"
            "      Type: AWS::S3::Bucket\n"
            "      Properties:\n"
            "        BucketName: My_Photos\n"
        ),
        "serverless.yml:10: resources.Resources.Photos.Properties.BucketName: ",
        "'My_Photos' is not a valid bucket name",
    ),
    case(
        "sqs event from a ref of the queue",
        FN
        + (
            "    events:\n"
            "      - sqs: !Ref Q\n"
            "resources:\n"
            "  Resources:\n"
            "    Q:\n"
            "      Type: AWS::SQS::Queue\n"
        ),
        "serverless.yml:6: functions.api.events[0].sqs.arn: ",
        "!Ref Q is not a queue ARN (allowed: !GetAtt Q.Arn)",
    ),
    case(
        "sns event from a queue",
        FN
        + (
            "    events:\n"
            "      - sns: !Ref Q\n"
            "resources:\n"
            "  Resources:\n"
            "    Q:\n"
            "      Type: AWS::SQS::Queue\n"
        ),
        "serverless.yml:6: functions.api.events[0].sns.arn: ",
        "!Ref Q points at AWS::SQS::Queue Q (allowed: AWS::SNS::Topic)",
    ),
    case(
        "destination that is a table",
        FN
        + (
            "    destinations:\n"
            "      onFailure: !GetAtt T.Arn\n"
            "resources:\n"
            "  Resources:\n"
            "    T:\n"
            "      Type: AWS::DynamoDB::Table\n"
        ),
        "serverless.yml:6: functions.api.destinations.onFailure: ",
        "points at AWS::DynamoDB::Table T (allowed: AWS::SQS::Queue, AWS::SNS::Topic",
    ),
    # -- resources -------------------------------------------------------------------------
    case(
        "resource type without namespaces",
        "service: svc\nresources:\n  Resources:\n    T:\n      Type: DynamoDB\n",
        "serverless.yml:5: resources.Resources.T.Type: ",
        "'DynamoDB' is not a resource type (allowed: AWS::Service::Type",
    ),
    case(
        "resource type that is a number",
        "service: svc\nresources:\n  Resources:\n    T:\n      Type: 7\n",
        "serverless.yml:5: resources.Resources.T.Type: ",
        "7 is not a resource type",
    ),
    case(
        "resource without type",
        "service: svc\nresources:\n  Resources:\n    T:\n      Properties: {}\n",
        "serverless.yml:4: resources.Resources.T: ",
        "Type is required",
    ),
    case(
        "logical id with a hyphen",
        "service: svc\nresources:\n  Resources:\n    my-table:\n      Type: AWS::DynamoDB::Table\n",
        "serverless.yml:4: resources.Resources.my-table: ",
        "is not a logical id (allowed: letters and digits only)",
    ),
    case(
        "misspelled resource properties",
        (
            "service: svc\n"
            "resources:\n"
            "  Resources:\n"
            "    T:\n"
            "      Type: AWS::SNS::Topic\n"
            "      Propertes: {}\n"
        ),
        "serverless.yml:6: resources.Resources.T.Propertes: ",
        "did you mean 'Properties'?",
    ),
    case(
        "stream view type that does not exist",
        (
            "service: svc\n"
            "resources:\n"
            "  Resources:\n"
            "    T:\n"
            "      Type: AWS::DynamoDB::Table\n"
            "      Properties:\n"
            "        StreamSpecification:\n"
            "          StreamViewType: ALL\n"
        ),
        "serverless.yml:8: resources.Resources.T.Properties.StreamSpecification.StreamViewType: ",
        (
            "'ALL' is not a stream view type (allowed: KEYS_ONLY,"
            " NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES)"
        ),
    ),
    case(
        "misspelled resources section",
        "service: svc\nresources:\n  Resourcez: {}\n",
        "serverless.yml:3: resources.Resourcez: ",
        "did you mean 'Resources'?",
    ),
]


@pytest.mark.parametrize(("text", "prefix", "fragment"), SERVERLESS_CASES)
def test_serverless_error_names_file_line_and_key_path(
    write: Callable[..., Path], text: str, prefix: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_manifest(write(text))
    message = str(caught.value)
    assert message.startswith(prefix), message
    assert fragment in message, message


SK = "service: svc\nfunctions:\n  api:\n    handler: app.main\n"
"""skylet.yaml lines 1-4: a valid function `api`; cases append keys at line 5."""

SKYLET_CASES = [
    case(
        "serverless provider section",
        "service: svc\nprovider: {name: aws}\n",
        "skylet.yaml:2: provider: ",
        "unknown key 'provider' (allowed: binary_media_types, custom, defaults",
    ),
    case("missing service", "functions: {}\n", "skylet.yaml:1: service: ", "is required"),
    case(
        "node runtime",
        SK + "    runtime: nodejs18.x\n",
        "skylet.yaml:5: functions.api.runtime: ",
        "'nodejs18.x' is not a runtime (allowed: python3.N, provided",
    ),
    case(
        "default runtime that is not python",
        "service: svc\ndefaults:\n  runtime: java21\nfunctions:\n  api: app.main\n",
        "skylet.yaml:3: defaults.runtime: ",
        "'java21' is not a runtime",
    ),
    case(
        "default memory out of range",
        "service: svc\ndefaults:\n  memory_size: 20000\nfunctions:\n  api: app.main\n",
        "skylet.yaml:3: defaults.memory_size: ",
        "20000 is out of range (allowed: 128\u201310240)",
    ),
    case(
        "unknown defaults key",
        "service: svc\ndefaults:\n  handler: app.main\n",
        "skylet.yaml:3: defaults.handler: ",
        "unknown key 'handler' (allowed: architecture, code, environment",
    ),
    case(
        "code directory that does not exist",
        SK + "    code: src\n",
        "skylet.yaml:5: functions.api.code: ",
        "'src' is not a directory under",
    ),
    case(
        "serverless spelling of a function key",
        SK + "    memorySize: 256\n",
        "skylet.yaml:5: functions.api.memorySize: ",
        "did you mean 'memory_size'?",
    ),
    case(
        "style that does not exist",
        SK + "    style: grpc\n",
        "skylet.yaml:5: functions.api.style: ",
        "'grpc' is not one of the allowed values (allowed: lambda, http, cloudevent, background)",
    ),
    case(
        "timeout above fifteen minutes",
        SK + "    timeout_s: 1000\n",
        "skylet.yaml:5: functions.api.timeout_s: ",
        "1000 is out of range (allowed: 1\u2013900)",
    ),
    case(
        "serverless event kind",
        SK + "    events:\n      - httpApi: GET /\n",
        "skylet.yaml:6: functions.api.events[0].httpApi: ",
        "unknown event kind 'httpApi' (did you mean 'http_api'?) "
        "(allowed: http, http_api, s3, schedule, sqs, sns, eventbridge, cloudevent;",
    ),
    case(
        "serverless spelling of an event key",
        SK + "    events:\n      - sqs:\n          queue: jobs\n          batchSize: 5\n",
        "skylet.yaml:8: functions.api.events[0].sqs.batchSize: ",
        "did you mean 'batch_size'?",
    ),
    case(
        "failure destination naming no function",
        SK + "    on_failure: nowhere\n",
        "skylet.yaml:5: functions.api.on_failure: ",
        "'nowhere' is not a function in this manifest",
    ),
    case(
        "dead letter sink naming no function",
        SK + "    events:\n      - cloudevent:\n          delivery: {dead_letter_sink: gone}\n",
        "skylet.yaml:7: functions.api.events[0].cloudevent.delivery.dead_letter_sink: ",
        "'gone' is not a function in this manifest",
    ),
    case(
        "cloudformation spelling of a resource",
        "service: svc\nresources:\n  Q:\n    Type: AWS::SQS::Queue\n",
        "skylet.yaml:4: resources.Q.Type: ",
        "did you mean 'type'?",
    ),
    case(
        "scheduled concurrency above reserved",
        SK
        + (
            "    reserved_concurrency: 3\n"
            "    provisioned_concurrency_schedules:\n"
            "      - {schedule: rate(1 day), provisioned_concurrency:"
            " 4}\n"
        ),
        "skylet.yaml:6: functions.api.provisioned_concurrency_schedules: ",
        "4 at rate(1 day) exceeds the reserved concurrency 3",
    ),
]


@pytest.mark.parametrize(("text", "prefix", "fragment"), SKYLET_CASES)
def test_skylet_error_names_file_line_and_key_path(
    write: Callable[..., Path], text: str, prefix: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_manifest(write(text, "skylet.yaml"))
    message = str(caught.value)
    assert message.startswith(prefix), message
    assert fragment in message, message


def test_every_problem_in_one_section_is_reported_together(write: Callable[..., Path]) -> None:
    text = FN + "    memorySize: big\n    timeout: 0\n"
    with pytest.raises(ConfigError) as caught:
        load_manifest(write(text))
    assert str(caught.value).splitlines() == [
        "serverless.yml:5: functions.api.memorySize: 'big' is not an integer"
        " (allowed: 128\u201310240)",
        "serverless.yml:6: functions.api.timeout: 0 is out of range (allowed: 1\u2013900)",
    ]


def test_unknown_keys_are_ignored_when_config_validation_is_off(write: Callable[..., Path]) -> None:
    text = "service: svc\nconfigValidationMode: off\n" + FN[13:] + "    warmup: true\n"
    manifest = load_manifest(write(text))
    assert manifest.functions["api"].handler == "app.main"
