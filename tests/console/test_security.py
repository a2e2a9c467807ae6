"""The console's request checks as pure policy: CSRF token comparison and where a request comes from."""

from __future__ import annotations

from appinstall.console import security

HERE = "https://console.example"


def test_the_session_csrf_token_is_accepted() -> None:
    assert security.same_token("abc", "abc")


def test_a_missing_or_different_csrf_token_is_refused() -> None:
    assert not security.same_token("abc", None)
    assert not security.same_token("abc", "")
    assert not security.same_token("abc", "abd")


def test_a_same_origin_request_is_accepted() -> None:
    assert security.from_this_origin(HERE, "same-origin", HERE)


def test_a_request_from_another_site_is_refused_by_its_origin() -> None:
    assert not security.from_this_origin("https://evil.example", None, HERE)


def test_a_request_from_another_site_is_refused_by_sec_fetch_site() -> None:
    assert not security.from_this_origin(None, "cross-site", HERE)
    assert not security.from_this_origin(None, "same-site", HERE)


def test_a_request_without_origin_headers_is_left_to_the_csrf_token() -> None:
    assert security.from_this_origin(None, None, HERE)


def test_the_content_security_policy_allows_no_inline_script_and_no_framing() -> None:
    policy = security.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
