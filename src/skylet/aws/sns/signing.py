"""Signing SNS messages as SNS does, so a subscriber that verifies signatures verifies skylet's.

SNS signs the canonical text of each message (``string_to_sign``: the message's fields, in
alphabetical order, each as ``Name\\nvalue\\n``) with RSA, PKCS #1 v1.5: SHA1 for
``SignatureVersion`` 1 (the default), SHA256 for 2, and sends the signature in base64 with the
URL of the X.509 certificate that holds the public key (``SigningCertURL``). skylet generates
one 2048-bit RSA key and a self-signed certificate the first time it starts, keeps them in the
store (every node signs with the same key), and serves the certificate at ``cert_path``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from skylet.aws.sns.catalog import SigningKey

#: The fields each message type signs, in SNS's (alphabetical) order; absent ones are skipped.
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
CERT_PREFIX = "/SimpleNotificationService-"


def generate(now: datetime.datetime) -> SigningKey:
    """A new key and its self-signed certificate (valid ten years from ``now``)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return SigningKey(key_pem.decode(), cert.public_bytes(serialization.Encoding.PEM).decode())


def string_to_sign(document: Mapping[str, object]) -> str:
    fields = NOTIFICATION_FIELDS if document.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(
        f"{name}\n{document[name]}\n" for name in fields if document.get(name) is not None
    )


class Signer:
    """Signs documents with one key; ``cert_path`` is where its certificate is served."""

    def __init__(self, key: SigningKey) -> None:
        loaded = serialization.load_pem_private_key(key.key_pem.encode(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise TypeError("the SNS signing key is not an RSA key")
        self._key = loaded
        self.cert_pem = key.cert_pem
        digest = hashlib.sha256(key.cert_pem.encode()).hexdigest()[:32]
        self.cert_path = f"{CERT_PREFIX}{digest}.pem"

    def sign(self, document: Mapping[str, object], version: str) -> str:
        algorithm: hashes.HashAlgorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        signature = self._key.sign(string_to_sign(document).encode(), padding.PKCS1v15(), algorithm)
        return base64.b64encode(signature).decode()
