"""SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for
the Authorization Header" and "Query String Authentication"): published keys and signatures."""

from __future__ import annotations

import calendar
import time

import pytest

from skylet.aws import sigv4
from skylet.errors import SignatureRefused

ACCESS = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = sigv4.Credentials({ACCESS: SECRET})
WHEN = float(calendar.timegm(time.strptime("20130524T000000Z", "%Y%m%dT%H%M%SZ")))
GET_SIGNATURE = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
PRESIGNED_SIGNATURE = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"


def get_headers(signature: str) -> list[tuple[str, str]]:
    return [
        ("Host", "examplebucket.s3.amazonaws.com"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", sigv4.EMPTY_SHA256),
        ("x-amz-date", "20130524T000000Z"),
        (
            "Authorization",
            f"AWS4-HMAC-SHA256 Credential={ACCESS}/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            f"Signature={signature}",
        ),
    ]


def test_the_documented_get_object_signature_verifies() -> None:
    verified = sigv4.verify_header(
        CREDENTIALS, "GET", "/test.txt", "", get_headers(GET_SIGNATURE), now=WHEN
    )
    assert verified.access_key == ACCESS


def test_a_changed_header_or_signature_does_not_verify() -> None:
    with pytest.raises(SignatureRefused) as error:
        sigv4.verify_header(CREDENTIALS, "GET", "/test.txt", "", get_headers("0" * 64), now=WHEN)
    assert error.value.kind == "mismatch"
    headers = [(k, "bytes=0-10" if k == "Range" else v) for k, v in get_headers(GET_SIGNATURE)]
    with pytest.raises(SignatureRefused):
        sigv4.verify_header(CREDENTIALS, "GET", "/test.txt", "", headers, now=WHEN)


def test_an_old_request_is_too_skewed() -> None:
    with pytest.raises(SignatureRefused) as error:
        sigv4.verify_header(
            CREDENTIALS, "GET", "/test.txt", "", get_headers(GET_SIGNATURE), now=WHEN + 3600
        )
    assert error.value.kind == "skewed"
    assert error.value.message == (
        "Signature expired: 20130524T000000Z is now earlier than 20130524T004500Z "
        "(20130524T010000Z - 15 min.)"
    )


def test_the_documented_presigned_url_verifies_and_expires() -> None:
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={ACCESS}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={PRESIGNED_SIGNATURE}"
    )
    headers = [("Host", "examplebucket.s3.amazonaws.com")]
    verified = sigv4.verify_presigned(CREDENTIALS, "GET", "/test.txt", query, headers, now=WHEN)
    assert verified.payload_hash == sigv4.UNSIGNED
    with pytest.raises(SignatureRefused, match="expired"):
        sigv4.verify_presigned(CREDENTIALS, "GET", "/test.txt", query, headers, now=WHEN + 86401)


def test_presign_makes_what_verify_accepts() -> None:
    url = sigv4.presign(
        access_key=ACCESS,
        secret=SECRET,
        region="us-east-1",
        method="GET",
        host="examplebucket.s3.amazonaws.com",
        raw_path="/test.txt",
        expires_s=86400,
        now=WHEN,
    )
    assert url.endswith(f"X-Amz-Signature={PRESIGNED_SIGNATURE}")


def test_unknown_keys_are_named() -> None:
    with pytest.raises(SignatureRefused) as error:
        sigv4.verify_header(
            sigv4.Credentials({"other": "x"}),
            "GET",
            "/test.txt",
            "",
            get_headers(GET_SIGNATURE),
            now=WHEN,
        )
    assert error.value.kind == "unknown_key"
    assert error.value.fields["AWSAccessKeyId"] == ACCESS


def test_the_service_of_a_request_comes_from_its_credential_scope() -> None:
    assert sigv4.scope_service(get_headers(GET_SIGNATURE), "") == "s3"
    lambda_auth = [
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=k/20240101/us-east-1/lambda/aws4_request, "
            "SignedHeaders=host, Signature=x",
        )
    ]
    assert sigv4.scope_service(lambda_auth, "") == "lambda"
    assert sigv4.scope_service([], "AWSAccessKeyId=a&Signature=b&Expires=1") == "s3"
    assert sigv4.scope_service([], "") is None


def test_an_unsigned_amz_header_is_refused_beside_a_valid_header_signature() -> None:
    headers = [*get_headers(GET_SIGNATURE), ("x-amz-copy-source", "/private/secret")]
    with pytest.raises(SignatureRefused) as error:
        sigv4.verify_header(CREDENTIALS, "GET", "/test.txt", "", headers, now=WHEN)
    assert error.value.kind == "unsigned_header"
    assert error.value.fields["HeadersNotSigned"] == "x-amz-copy-source"


def test_an_unsigned_amz_header_is_refused_beside_a_valid_presigned_url() -> None:
    query = (
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={ACCESS}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        f"&X-Amz-Signature={PRESIGNED_SIGNATURE}"
    )
    headers = [("Host", "examplebucket.s3.amazonaws.com"), ("X-Amz-Acl", "public-read")]
    with pytest.raises(SignatureRefused) as error:
        sigv4.verify_presigned(CREDENTIALS, "GET", "/test.txt", query, headers, now=WHEN)
    assert error.value.kind == "unsigned_header"
    assert error.value.fields["HeadersNotSigned"] == "x-amz-acl"
    # x-amz-content-sha256 is the one S3 lets through unsigned: it describes the payload,
    # which the signature (or UNSIGNED-PAYLOAD) already covers.
    exempt = [("Host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", "x")]
    sigv4.verify_presigned(CREDENTIALS, "GET", "/test.txt", query, exempt, now=WHEN)
