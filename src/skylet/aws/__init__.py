"""The AWS-compatible APIs on skylet's port, beside the gateway: each exact to the wire, so a
stock boto3 client works against it.

- ``router``            which service a request is for (scope, target, Action), the registry
- ``auth``              who may call: the one ``Authenticator`` of every door
- ``sigv4``, ``sigv2``  the one SigV4 verifier, for every service; S3's SigV2 URLs; pure
- ``service``, ``protocols``  services as operations over plain values, codecs from botocore
- ``sts``               STS GetCallerIdentity
- ``lambda_api``        the Lambda Invoke API (RequestResponse, Event, DryRun, Tail, qualifiers)
- ``s3_api``            the S3 REST API (path style) over a blob store (skylet.blobs)
- ``s3_notifications``  S3 event records: object changes → subscribed functions
- ``errors``            the AWS error formats, one mapping per wire format (JSON, XML)
"""
