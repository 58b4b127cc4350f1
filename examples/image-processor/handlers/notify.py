"""The topic's subscriber: logs each notification (see it with `skylet logs notify`)."""

import json


def handler(event, context):
    for record in event["Records"]:
        notification = record["Sns"]
        message = json.loads(notification["Message"])
        sizes = ", ".join(
            f"{name} {t['width']}x{t['height']}" for name, t in message["thumbnails"].items()
        )
        print(f"{notification['Subject']}: s3://{message['bucket']}/{message['key']} ({sizes})")
    # The whole event, one line of JSON, for whoever reads the log.
    print(json.dumps(event))
