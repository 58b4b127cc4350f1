"""S3 ObjectCreated on uploads/*.jpg and uploads/*.png: three thumbnails, then a notification.

Each thumbnail keeps the image's aspect ratio within a square box (Lanczos resampling), is
written under thumbnails/{size}/{key} with the image's Content-Type, and the topic is told
where they are. An object that is not an image raises, so the invocation fails and its record
goes to the on-failure destination (the DLQ).
"""

import io
import json
import os
import urllib.parse

import boto3
from PIL import Image, UnidentifiedImageError

s3 = boto3.client("s3")
sns = boto3.client("sns")

SIZES = {"small": 150, "medium": 300, "large": 600}
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class NotAnImage(Exception):
    """The uploaded object is not a JPEG or PNG image."""


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        # S3 sends the key URL-encoded, spaces as '+'.
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        print(f"Processing: s3://{bucket}/{key}")
        thumbnails = process_image(bucket, key)
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject="Image processed",
            Message=json.dumps({"bucket": bucket, "key": key, "thumbnails": thumbnails}),
            MessageAttributes={"bucket": {"DataType": "String", "StringValue": bucket}},
        )


def process_image(bucket, key):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        image = Image.open(io.BytesIO(body))
        image.load()
    except UnidentifiedImageError as exc:
        raise NotAnImage(f"s3://{bucket}/{key} is not an image") from exc
    except OSError as exc:  # a truncated or damaged image
        raise NotAnImage(f"s3://{bucket}/{key} cannot be decoded: {exc}") from exc
    if image.format not in FORMATS:
        raise NotAnImage(f"s3://{bucket}/{key} is {image.format}, not JPEG or PNG")
    print(f"Original image: {image.width}x{image.height}, format: {image.format}")

    thumbnails = {}
    for name, box in SIZES.items():
        thumbnail = image.copy()
        thumbnail.thumbnail((box, box), Image.Resampling.LANCZOS)
        thumb_key = f"thumbnails/{name}/{key}"
        s3.put_object(
            Bucket=bucket,
            Key=thumb_key,
            Body=encode(thumbnail, image.format),
            ContentType=FORMATS[image.format],
        )
        print(f"Generated thumbnail: {name} ({thumbnail.width}x{thumbnail.height})")
        thumbnails[name] = {"key": thumb_key, "width": thumbnail.width, "height": thumbnail.height}
    return thumbnails


def encode(image, image_format):
    out = io.BytesIO()
    if image_format == "JPEG":
        # JPEG has no alpha or palette: the modes it cannot hold become RGB.
        if image.mode not in ("RGB", "L", "CMYK"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=90)
    else:
        image.save(out, "PNG")
    return out.getvalue()
