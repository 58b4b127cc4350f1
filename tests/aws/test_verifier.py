"""One verifier for every service: what botocore's own signers sign verifies, with the rules
of services other than S3 (the path encoded twice, the body's hash always signed), the scope's
region and service checked, and each refusal named in every protocol family's codes."""

from __future__ import annotations

import hashlib
import time
from typing import get_args

import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from skylet.aws import sigv4
from skylet.aws.auth import Authenticator
from skylet.aws.errors import SIGNATURE_CODES, as_s3_error, json_error, signature_code
from skylet.errors import SignatureProblem, SignatureRefused

KEYS = sigv4.Credentials({"AKID": "secret"}, "eu-west-1")
HOST = "127.0.0.1:9000"
ARN_PATH = (
    "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A000000000000%3Afunction%3Af/invocations"
)


def botocore_signed(
    service: str,
    path: str = ARN_PATH,
    body: bytes = b'{"a": 1}',
    *,
    region: str = "eu-west-1",
    secret: str = "secret",
    headers: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The headers botocore's ``SigV4Auth`` (not S3's) sends for this request."""
    request = AWSRequest("POST", f"http://{HOST}{path}", data=body, headers=headers or {})
    SigV4Auth(BotoCredentials("AKID", secret), service, region).add_auth(request)
    return [("host", HOST), *((k, str(v)) for k, v in request.headers.items())]


def verify(
    service: str, headers: list[tuple[str, str]], body: bytes = b'{"a": 1}', path: str = ARN_PATH
) -> sigv4.Verified:
    return sigv4.verify_header(
        KEYS,
        "POST",
        path,
        "",
        headers,
        service=service,
        payload_hash=hashlib.sha256(body).hexdigest(),
    )


def test_botocore_s_signature_of_a_lambda_request_verifies_with_its_path_encoded_twice() -> None:
    assert verify("lambda", botocore_signed("lambda")).access_key == "AKID"


def test_the_body_is_always_signed_for_a_service_other_than_s3() -> None:
    with pytest.raises(SignatureRefused) as refused:
        verify("lambda", botocore_signed("lambda"), body=b'{"a": 2}')
    assert refused.value.kind == "mismatch"
    # A client that declares its payload unsigned has not signed the body: refused too.
    unsigned = botocore_signed("lambda", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    with pytest.raises(SignatureRefused):
        verify("lambda", unsigned)


def test_a_service_other_than_s3_is_never_verified_without_its_body_s_hash() -> None:
    with pytest.raises(ValueError, match="payload_hash"):
        sigv4.verify_header(KEYS, "POST", ARN_PATH, "", botocore_signed("lambda"), service="sqs")


@pytest.mark.parametrize(
    ("signed_for", "region", "kind"),
    [
        pytest.param("sqs", "eu-west-1", "service", id="another service"),
        pytest.param("lambda", "us-west-2", "region", id="another region"),
        pytest.param("lambda", "us-east-1", "region", id="us-east-1 is S3's global region only"),
    ],
)
def test_the_scope_must_name_the_service_and_the_region_served(
    signed_for: str, region: str, kind: SignatureProblem
) -> None:
    with pytest.raises(SignatureRefused) as refused:
        verify("lambda", botocore_signed(signed_for, region=region))
    assert refused.value.kind == kind
    if kind == "region":
        assert refused.value.fields["Region"] == "eu-west-1"


def s3_signed(region: str, path: str = "/bucket/key") -> list[tuple[str, str]]:
    return [
        ("host", HOST),
        *sigv4.sign_headers(
            access_key="AKID",
            secret="secret",
            region=region,
            method="GET",
            host=HOST,
            raw_path=path,
        ),
    ]


def test_s3_accepts_its_global_region_and_any_region_where_every_endpoint_answers_alike() -> None:
    for region in ("eu-west-1", "us-east-1"):
        sigv4.verify_header(KEYS, "GET", "/bucket/key", "", s3_signed(region))
    with pytest.raises(SignatureRefused):
        sigv4.verify_header(KEYS, "GET", "/bucket/key", "", s3_signed("ap-south-1"))
    sigv4.verify_header(KEYS, "GET", "/", "", s3_signed("ap-south-1", "/"), any_region=True)


def test_a_presigned_url_of_another_service_verifies_with_its_body_s_hash() -> None:
    request = AWSRequest("GET", f"http://{HOST}/?Action=GetCallerIdentity&Version=2011-06-15")
    SigV4QueryAuth(BotoCredentials("AKID", "secret"), "sts", "eu-west-1", expires=60).add_auth(
        request
    )
    query = request.url.split("?", 1)[1]
    verified = sigv4.verify_presigned(
        KEYS, "GET", "/", query, [("host", HOST)], service="sts", payload_hash=sigv4.EMPTY_SHA256
    )
    assert verified.access_key == "AKID"


def test_an_unsigned_header_that_picks_the_operation_is_refused() -> None:
    headers = [*botocore_signed("sqs", "/"), ("X-Amz-Target", "AmazonSQS.PurgeQueue")]
    with pytest.raises(SignatureRefused) as refused:
        verify("sqs", headers, path="/")
    assert refused.value.kind == "unsigned_header"
    assert refused.value.fields["HeadersNotSigned"] == "x-amz-target"


def test_the_signing_key_is_derived_once_a_day() -> None:
    sigv4.signing_key.cache_clear()
    for _ in range(3):
        verify("lambda", botocore_signed("lambda"))
    info = sigv4.signing_key.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_an_unsigned_request_is_refused_only_where_credentials_are_required() -> None:
    local = Authenticator({"test": "test"}, "us-east-1", required=False)
    assert local.verify("lambda", "POST", "/", "", [], payload_hash=sigv4.EMPTY_SHA256) is None
    configured = Authenticator({"K": "S"}, "us-east-1", required=True)
    with pytest.raises(SignatureRefused) as refused:
        configured.verify("lambda", "POST", "/", "", [], payload_hash=sigv4.EMPTY_SHA256)
    assert refused.value.kind == "missing"
    # S3 decides itself what an anonymous request may do (public buckets).
    assert configured.verify("s3", "GET", "/b/k", "", [], anonymous=True) is None


def test_a_local_server_accepts_any_access_key_unverified_and_a_configured_one_does_not() -> None:
    body = b'{"a": 1}'
    digest = hashlib.sha256(body).hexdigest()
    local = Authenticator({"test": "test"}, "eu-west-1", required=False)
    # AKID's secret is the client's own (real AWS keys from its environment): unknowable here.
    verified = local.verify(
        "lambda", "POST", ARN_PATH, "", botocore_signed("lambda"), payload_hash=digest
    )
    # It acts as the local pair (the account's root), its signature unchecked.
    assert verified is not None and (verified.access_key, verified.trusted) == ("test", False)
    configured = Authenticator({"test": "test"}, "eu-west-1", required=True)
    with pytest.raises(SignatureRefused) as refused:
        configured.verify(
            "lambda", "POST", ARN_PATH, "", botocore_signed("lambda"), payload_hash=digest
        )
    assert refused.value.kind == "unknown_key"


def test_a_local_server_still_checks_what_it_can_of_an_unknown_key_s_request() -> None:
    local = Authenticator({"test": "test"}, "eu-west-1", required=False)
    signed = botocore_signed("lambda", region="ap-south-1")
    with pytest.raises(SignatureRefused) as refused:
        local.verify("lambda", "POST", ARN_PATH, "", signed, payload_hash=sigv4.EMPTY_SHA256)
    assert refused.value.kind == "region"
    # The local pair's own signatures are verified: its secret is known.
    pair = Authenticator({"AKID": "secret"}, "eu-west-1", required=False)
    wrong = botocore_signed("lambda", secret="not-the-secret")
    with pytest.raises(SignatureRefused) as refused:
        pair.verify("lambda", "POST", ARN_PATH, "", wrong, payload_hash=sigv4.EMPTY_SHA256)
    assert refused.value.kind == "mismatch"


@pytest.mark.parametrize("kind", get_args(SignatureProblem))
def test_every_signature_problem_has_a_code_in_every_family(kind: SignatureProblem) -> None:
    assert {"s3", "json", "query"} <= SIGNATURE_CODES[kind].keys()
    for family in ("s3", "json", "query"):
        code, status, message = signature_code(SignatureRefused(kind, "why"), family)  # type: ignore[arg-type]
        assert code and 400 <= status < 500 and message


@pytest.mark.parametrize(
    ("kind", "form", "s3", "json", "query"),
    [
        (
            "missing",
            "header",
            "AccessDenied",
            "MissingAuthenticationTokenException",
            "MissingAuthenticationToken",
        ),
        (
            "unknown_key",
            "header",
            "InvalidAccessKeyId",
            "UnrecognizedClientException",
            "InvalidClientTokenId",
        ),
        (
            "mismatch",
            "header",
            "SignatureDoesNotMatch",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
        (
            "malformed",
            "header",
            "AuthorizationHeaderMalformed",
            "IncompleteSignatureException",
            "IncompleteSignature",
        ),
        (
            "malformed",
            "query",
            "AuthorizationQueryParametersError",
            "IncompleteSignatureException",
            "IncompleteSignature",
        ),
        (
            "region",
            "header",
            "AuthorizationHeaderMalformed",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
        (
            "skewed",
            "header",
            "RequestTimeTooSkewed",
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
        ),
    ],
    ids=lambda value: str(value),
)
def test_a_refusal_reads_as_each_family_of_aws_apis_names_it(
    kind: SignatureProblem, form: str, s3: str, json: str, query: str
) -> None:
    refused = SignatureRefused(kind, "why", form=form)  # type: ignore[arg-type]
    assert [signature_code(refused, f)[0] for f in ("s3", "json", "query")] == [s3, json, query]


def test_s3_and_lambda_write_a_refusal_in_their_own_formats() -> None:
    refused = SignatureRefused("mismatch", "no match", AWSAccessKeyId="AKID", StringToSign="x")
    s3 = as_s3_error(refused)
    assert (s3.code, s3.status, s3.fields["StringToSign"]) == ("SignatureDoesNotMatch", 403, "x")
    status, body, headers = json_error(refused, "req")
    assert status == 403
    assert (b"x-amzn-errortype", b"InvalidSignatureException") in headers
    assert b'"message": "no match"' in body
    missing = json_error(SignatureRefused("missing", "Missing Authentication Token"), "req")
    assert missing[1] == b'{"Type": "User", "message": "Missing Authentication Token"}'


def test_a_skewed_request_says_by_how_much_as_aws_does() -> None:
    now = time.time()
    headers = botocore_signed("lambda")
    with pytest.raises(SignatureRefused) as refused:
        sigv4.verify_header(
            KEYS,
            "POST",
            ARN_PATH,
            "",
            headers,
            service="lambda",
            payload_hash=hashlib.sha256(b'{"a": 1}').hexdigest(),
            now=now + 3600,
        )
    assert refused.value.kind == "skewed"
    assert "is now earlier than" in refused.value.message


def _function_signed(
    credentials: tuple[str, str, str], service: str = "sts"
) -> list[tuple[str, str]]:
    request = AWSRequest("POST", f"http://{HOST}/", data=b"Action=GetCallerIdentity")
    SigV4Auth(BotoCredentials(*credentials), service, "eu-west-1").add_auth(request)
    return [("host", HOST), *((k, str(v)) for k, v in request.headers.items())]


def _verify_as(auth: Authenticator, headers: list[tuple[str, str]]) -> sigv4.Verified | None:
    body_hash = hashlib.sha256(b"Action=GetCallerIdentity").hexdigest()
    return auth.verify("sts", "POST", "/", "", headers, payload_hash=body_hash)


def test_a_function_s_own_credentials_verify_as_that_function() -> None:
    from skylet.function_keys import credentials_for

    auth = Authenticator(KEYS.keys, "eu-west-1", required=True, function_secret=b"k" * 32)
    verified = _verify_as(auth, _function_signed(credentials_for(b"k" * 32, "thumbnail")))
    assert verified is not None and verified.function == "thumbnail"
    platform = _verify_as(auth, _function_signed(("AKID", "secret", "")))
    assert platform is not None and platform.function is None


def test_a_function_s_token_with_another_s_keys_or_another_secret_is_refused() -> None:
    from skylet.function_keys import credentials_for

    auth = Authenticator(KEYS.keys, "eu-west-1", required=True, function_secret=b"k" * 32)
    mine, other = credentials_for(b"k" * 32, "a"), credentials_for(b"k" * 32, "b")
    swapped = (other.access_key_id, other.secret_access_key, mine.session_token)
    with pytest.raises(SignatureRefused) as caught:
        _verify_as(auth, _function_signed(swapped))
    assert caught.value.kind == "unknown_key"
    with pytest.raises(SignatureRefused) as caught:
        _verify_as(auth, _function_signed(credentials_for(b"x" * 32, "a")))
    assert caught.value.kind == "token"
    platform_with_token = ("AKID", "secret", mine.session_token)
    with pytest.raises(SignatureRefused) as caught:
        _verify_as(auth, _function_signed(platform_with_token))
    assert caught.value.kind == "unknown_key"
