"""The dashboard's session tokens and cookie. Pure: the clock is passed in."""

from __future__ import annotations

import pytest

from skylet.gateway import dashboard_session as session

SECRET = b"s" * 32
NOW = 1_800_000_000.0


def test_a_token_is_valid_for_its_purpose_until_it_expires() -> None:
    token = session.issue(SECRET, "login", NOW, 300)
    assert session.valid(SECRET, "login", token, NOW + 299)
    assert not session.valid(SECRET, "login", token, NOW + 300)
    assert not session.valid(SECRET, "session", token, NOW)


@pytest.mark.parametrize(
    "forged",
    [
        pytest.param(lambda t: t.replace("login.", "login.9", 1), id="a later expiry"),
        pytest.param(lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"), id="a changed mac"),
        pytest.param(lambda t: "login..x", id="no expiry"),
        pytest.param(lambda t: t + ".more", id="too many parts"),
        pytest.param(lambda t: "", id="empty"),
    ],
)
def test_a_changed_token_is_refused(forged: object) -> None:
    token = session.issue(SECRET, "login", NOW, 300)
    assert callable(forged)
    assert not session.valid(SECRET, "login", forged(token), NOW)


def test_another_secret_s_token_is_refused() -> None:
    token = session.issue(b"t" * 32, "session", NOW, 60)
    assert not session.valid(SECRET, "session", token, NOW)


def test_the_cookie_is_found_among_others_and_set_http_only_and_strict() -> None:
    headers = [(b"host", b"x"), (b"cookie", b"a=1; skylet_dashboard=abc.1.f; b=2")]
    assert session.cookie_of(headers) == "abc.1.f"
    assert session.cookie_of([(b"cookie", b"other=1")]) is None
    cookie = session.set_cookie("tok").decode()
    assert cookie.startswith("skylet_dashboard=tok;")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_skylet/" in cookie
