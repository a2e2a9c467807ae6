"""Signing in and out in real Chromium: the page a new user meets first, and its security as the browser sees it."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, browser_sign_in


def test_a_user_signs_in_with_an_admin_key_and_out_again(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-acme")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/console/accounts/browser-acme/installations")
    assert page.get_by_role("heading", name="Installations").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/sign-in")
    page.goto(f"{console_server.url}/console/accounts/browser-acme/installations")
    page.wait_for_url("**/console/sign-in?next=*")


def test_a_wrong_key_shows_why_on_the_form(console_server: ConsoleServer, page: Any) -> None:
    browser_sign_in(page, console_server.url, "aik_wrong")
    assert "not valid" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("Admin key or operator token").get_attribute("aria-invalid") == "true"


def test_the_browser_keeps_no_key_and_scripts_cannot_read_the_session(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-cookies")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    cookies = page.context.cookies()
    session = next(cookie for cookie in cookies if cookie["name"] == "appinstall-session")
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert all(tenant.key not in cookie["value"] for cookie in cookies)
    assert page.evaluate("document.cookie") == ""
    stored = page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])")
    assert tenant.key not in stored


def test_a_tenant_cannot_open_another_tenants_account_by_url(console_server: ConsoleServer, page: Any) -> None:
    mine = console_server.tenant("browser-mine")
    console_server.tenant("browser-theirs")
    browser_sign_in(page, console_server.url, mine.key)
    page.wait_for_url("**/installations")
    answer = page.goto(f"{console_server.url}/console/accounts/browser-theirs/installations")
    assert answer is not None and answer.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()


def test_the_keyboard_reaches_the_sign_in_form_and_submits_it(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-keys")
    page.goto(f"{console_server.url}/console/sign-in")
    page.keyboard.type(tenant.key)  # the key field has focus when the page opens
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/accounts/browser-keys/installations")


def test_a_form_sent_without_its_csrf_token_is_refused_in_the_browser(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-csrf")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.evaluate("document.querySelector('form.who input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", name="Not allowed").is_visible()
    page.goto(f"{console_server.url}/console/accounts/browser-csrf/installations")
    assert page.get_by_role("heading", name="Installations").is_visible()  # still signed in: nothing was done
