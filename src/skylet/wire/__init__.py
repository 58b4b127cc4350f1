"""The contract the platform and an instance share, on neither side.

- ``frames``      the frame format on the pipes between them
- ``http``        a routed HTTP request and its trigger as they cross (named, versioned), the
                  framed HTTP response, API Gateway's request ids, the header block
- ``invocation``  the invocation values: ``InvokeRequest``, ``RawOutcome``, ``Deliver``

It imports nothing of skylet's but ``fastjson``: code that runs inside every function process
(``worker/``) and the platform's (``gateway/``, ``invoker/``, ``pool/``) both import it, and
neither imports the other (tests/test_layers.py keeps that true).
"""
