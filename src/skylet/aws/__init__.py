"""The AWS-compatible APIs on skylet's port, beside the gateway: each exact to the wire, so a
stock boto3 client works against it.

- ``lambda_api``        the Lambda Invoke API (RequestResponse, Event, DryRun, Tail, qualifiers)
- ``s3_api``            the S3 REST API (path style) over a blob store (skylet.blobs)
- ``s3_notifications``  S3 event records: object changes → subscribed functions
- ``sigv4``             SigV4 (headers, presigned) and SigV2 presigned verification; pure
- ``errors``            the AWS error formats, one mapping per wire format (JSON, XML)
"""
