"""AWS's protocols, one codec each, driven by botocore's service models.

| protocol | selects the operation by | body | errors |
|---|---|---|---|
| ``json`` (``json_rpc.py``) | ``X-Amz-Target`` | JSON | ``__type``, ``x-amzn-query-error`` |
| ``query`` (``query.py``) | the ``Action`` parameter | form in, XML out | ``<ErrorResponse>`` |
| ``rest-json`` (``rest_json.py``) | method and ``requestUri`` | JSON | ``x-amzn-ErrorType`` |
| ``rest-xml`` (``rest_xml.py``) | method and ``requestUri`` | XML | ``<Error>`` |
| ``smithy-rpc-v2-cbor`` (``cbor.py``) | ``/service/…/operation/…`` | CBOR | ``__type`` |

Shared: ``types.py`` (``Request``, ``Response``, the ``Codec`` interface, ``Refused``),
``models.py`` (loading and indexing models), ``routes.py`` (``requestUri`` matching),
``values.py`` (scalars), ``document.py`` (JSON and CBOR trees by shape), ``xmltree.py`` (XML),
``form.py`` (query forms), ``rest.py`` (HTTP bindings), ``faults.py`` (errors by the model).
Every codec is stateless: one instance each serves every service.
"""

from __future__ import annotations

from collections.abc import Mapping

from skylet.aws.protocols.cbor import CborCodec
from skylet.aws.protocols.json_rpc import JsonCodec
from skylet.aws.protocols.query import QueryCodec
from skylet.aws.protocols.rest_json import RestJsonCodec
from skylet.aws.protocols.rest_xml import RestXmlCodec
from skylet.aws.protocols.types import Codec

#: The codec of each protocol, by the name botocore's models use. The mapping's type is each
#: codec's static conformance check against ``Codec``.
CODECS: Mapping[str, Codec] = {
    "json": JsonCodec(),
    "query": QueryCodec(),
    "rest-json": RestJsonCodec(),
    "rest-xml": RestXmlCodec(),
    "smithy-rpc-v2-cbor": CborCodec(),
}

__all__ = ["CODECS", "Codec"]
