"""Each function's own credentials: derived, never stored, recognised from the token alone,
and none of them tells anything of another function's or of the platform's secret."""

from __future__ import annotations

import pytest

from skylet import function_keys
from skylet.function_keys import credentials_for, function_of, platform_secret

SECRET = b"\x01" * 32


def test_a_function_s_credentials_are_the_same_each_time_and_on_every_node() -> None:
    assert credentials_for(SECRET, "thumbnail") == credentials_for(SECRET, "thumbnail")
    pairs = {"AKID": "s1", "OTHER": "s2"}
    assert platform_secret(pairs) == platform_secret(dict(reversed(pairs.items())))


def test_they_have_aws_s_temporary_shape() -> None:
    own = credentials_for(SECRET, "thumbnail")
    assert own.access_key_id.startswith("ASIA") and len(own.access_key_id) == 20
    assert own.access_key_id.isalnum() and own.access_key_id.isupper()
    assert len(own.secret_access_key) == 40


def test_functions_and_platform_secrets_give_different_credentials() -> None:
    one, other = credentials_for(SECRET, "a"), credentials_for(SECRET, "b")
    assert not set(one) & set(other)
    assert not set(one) & set(credentials_for(b"\x02" * 32, "a"))
    assert platform_secret({"K": "s1"}) != platform_secret({"K": "s2"})


def test_the_token_names_its_function() -> None:
    name = "api-dev-thumbnail_2"
    assert function_of(SECRET, credentials_for(SECRET, name).session_token) == name


@pytest.mark.parametrize(
    "token",
    [
        "",
        "skylet1",
        "skylet1.YQ",
        "skylet2.YQ." + "0" * 32,
        "skylet1.YQ." + "0" * 32,
        "skylet1.!!!." + "0" * 32,
        "skylet1.gA." + "0" * 32,
        "FwoGZXIvYXdzEJr//////////wEaDH...",
    ],
    ids=[
        "empty",
        "no_name",
        "no_mac",
        "another_version",
        "a_made_up_mac",
        "a_name_that_is_no_base64",
        "a_name_that_is_no_utf_8",
        "an_aws_token",
    ],
)
def test_a_token_skylet_did_not_make_names_no_function(token: str) -> None:
    assert function_of(SECRET, token) is None


def test_a_token_cannot_be_moved_to_another_function() -> None:
    token = credentials_for(SECRET, "a").session_token
    _, _, mac = token.rpartition(".")
    other = credentials_for(SECRET, "b").session_token.rpartition(".")[0]
    assert function_of(SECRET, f"{other}.{mac}") is None
    assert function_of(b"\x02" * 32, token) is None
    assert function_keys.KEY_PREFIX == "ASIA"
