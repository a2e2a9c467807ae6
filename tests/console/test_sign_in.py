"""Signing in to the console, through HTTP as a browser sends it: sessions, cookies, CSRF and tenant isolation."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from appinstall.http.deps import AppState
from tests.conftest import TEST_OPERATOR_TOKEN
from tests.console.conftest import Tenant, csrf_of, make_tenant, sign_in

pytestmark = pytest.mark.anyio

SAME_ORIGIN = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}


async def test_the_root_leads_to_the_console(browserless: httpx.AsyncClient) -> None:
    answer = await browserless.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/console"


async def test_the_console_asks_a_stranger_to_sign_in(browserless: httpx.AsyncClient) -> None:
    answer = await browserless.get("/console")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


async def test_a_page_without_a_session_leads_to_sign_in_and_back(browserless: httpx.AsyncClient) -> None:
    answer = await browserless.get("/console/accounts/acme/installations")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole%2Faccounts%2Facme%2Finstallations"


async def test_an_admin_key_signs_in_to_its_account(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    answer = await sign_in(browserless, tenant.key)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/accounts/acme/installations"
    page = await browserless.get(answer.headers["location"])
    assert page.status_code == 200 and "Installations" in page.text


async def test_the_session_cookie_is_httponly_strict_and_holds_no_key(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    answer = await sign_in(browserless, tenant.key)
    cookie = next(value for value in answer.headers.get_list("set-cookie") if value.startswith("appinstall-session="))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
    assert any(part.startswith("max-age=") for part in attributes)
    assert tenant.key not in cookie and tenant.key.removeprefix("aik_") not in cookie


async def test_behind_https_the_cookie_is_secure_and_host_only(app: FastAPI, tenant: Tenant) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://appinstall.test") as https:
        form = await https.get("/console/sign-in")
        answer = await https.post(
            "/console/sign-in", data={"key": tenant.key, "csrf_token": csrf_of(form.text)}, headers=SAME_ORIGIN_TLS
        )
    cookie = next(value for value in answer.headers.get_list("set-cookie") if "appinstall-session=" in value)
    assert cookie.startswith("__Host-appinstall-session=")
    assert "secure" in [part.strip().lower() for part in cookie.split(";")]


SAME_ORIGIN_TLS = {"Origin": "https://appinstall.test", "Sec-Fetch-Site": "same-origin"}


async def test_a_wrong_key_is_refused_on_the_form_without_a_session(browserless: httpx.AsyncClient) -> None:
    answer = await sign_in(browserless, "aik_not-a-key")
    assert answer.status_code == 401
    assert "not valid" in answer.text
    assert not any(value.startswith("appinstall-session=") for value in answer.headers.get_list("set-cookie"))


async def test_a_sign_in_without_the_forms_csrf_token_is_refused(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    await browserless.get("/console/sign-in")
    answer = await browserless.post("/console/sign-in", data={"key": tenant.key}, headers=SAME_ORIGIN)
    assert answer.status_code == 403
    assert (await browserless.get("/console")).headers["location"] == "/console/sign-in"


async def test_a_sign_in_posted_from_another_site_is_refused(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    form = await browserless.get("/console/sign-in")
    answer = await browserless.post(
        "/console/sign-in",
        data={"key": tenant.key, "csrf_token": csrf_of(form.text)},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403


async def test_after_sign_in_only_console_paths_are_followed(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    form = await browserless.get("/console/sign-in?next=//evil.example/")
    answer = await browserless.post(
        "/console/sign-in",
        data={"key": tenant.key, "csrf_token": csrf_of(form.text), "next": "//evil.example/"},
        headers=SAME_ORIGIN,
    )
    assert answer.headers["location"] == "/console/accounts/acme/installations"


async def test_revoking_the_key_ends_its_console_session(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    revoked = await browserless.delete(
        f"/api/accounts/acme/keys/{tenant.key_id}", headers={"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    )
    assert revoked.status_code == 204
    answer = await browserless.get("/console/accounts/acme/installations")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in")


async def test_signing_out_ends_the_session_on_the_server(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    kept = dict(browserless.cookies)
    page = await browserless.get("/console/accounts/acme/installations")
    out = await browserless.post("/console/sign-out", data={"csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN)
    assert out.status_code == 303
    browserless.cookies.update(kept)  # the old cookie, replayed
    answer = await browserless.get("/console/accounts/acme/installations")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/sign-in")


async def test_a_form_without_the_csrf_token_is_refused(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    answer = await browserless.post("/console/sign-out", data={}, headers=SAME_ORIGIN)
    assert answer.status_code == 403
    assert (await browserless.get("/console/accounts/acme/installations")).status_code == 200


async def test_a_tampered_session_cookie_is_no_session(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    value = browserless.cookies["appinstall-session"]
    browserless.cookies.clear()
    browserless.cookies.set("appinstall-session", value[:-2] + "xx", domain="appinstall.test")
    answer = await browserless.get("/console/accounts/acme/installations")
    assert answer.status_code == 303


async def test_an_expired_session_leads_to_sign_in(
    app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(browserless, tenant.key)
    state = app.state
    assert isinstance(state, AppState)
    later = state.store.clock() + (state.settings.console_session_minutes * 60_000) + 1
    state.store.clock = lambda: later
    answer = await browserless.get("/console/accounts/acme/installations")
    assert answer.status_code == 303


async def test_another_tenants_account_is_not_found_like_a_missing_one(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    await make_tenant(browserless, "globex")
    await sign_in(browserless, tenant.key)
    foreign = await browserless.get("/console/accounts/globex/installations")
    missing = await browserless.get("/console/accounts/nobody/installations")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.text.replace("globex", "ID") == missing.text.replace("nobody", "ID")


async def test_the_operator_sees_every_account(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await make_tenant(browserless, "globex")
    answer = await sign_in(browserless, TEST_OPERATOR_TOKEN)
    assert answer.headers["location"] == "/console/accounts"
    page = await browserless.get("/console/accounts")
    assert "acme" in page.text and "globex" in page.text
    assert (await browserless.get("/console/accounts/globex/installations")).status_code == 200


async def test_an_admin_key_has_no_accounts_list(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await make_tenant(browserless, "globex")
    await sign_in(browserless, tenant.key)
    answer = await browserless.get("/console/accounts")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/accounts/acme/installations"


async def test_every_console_answer_carries_the_security_headers(browserless: httpx.AsyncClient) -> None:
    for path in ("/console/sign-in", "/console/static/console.css", "/console/accounts/x/installations"):
        answer = await browserless.get(path)
        assert "script-src 'self'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY", path


async def test_an_unknown_console_address_is_the_consoles_not_found_page(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    await sign_in(browserless, tenant.key)
    answer = await browserless.get("/console/accounts/acme/no-such-page")
    assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")
    assert "Not found" in answer.text and "Sign out" in answer.text  # the signed-in page, with its session
    assert (await browserless.get("/console/static/console.css")).status_code == 200


async def _accounts_form(client: httpx.AsyncClient, account_id: str) -> httpx.Response:
    page = await client.get("/console/accounts")
    return await client.post(
        "/console/accounts", data={"id": account_id, "csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN
    )


async def test_the_operator_creates_an_account_and_lands_on_its_keys(browserless: httpx.AsyncClient) -> None:
    await sign_in(browserless, TEST_OPERATOR_TOKEN)
    answer = await _accounts_form(browserless, "initech")
    assert answer.status_code == 303 and answer.headers["location"] == "/console/accounts/initech/keys"
    assert "initech" in (await browserless.get("/console/accounts")).text
    again = await _accounts_form(browserless, "initech")
    assert again.status_code == 409


async def test_an_account_id_that_is_not_one_is_refused(browserless: httpx.AsyncClient) -> None:
    await sign_in(browserless, TEST_OPERATOR_TOKEN)
    answer = await _accounts_form(browserless, "not an id")
    assert answer.status_code == 400 and "letters, digits" in answer.text


async def test_an_admin_key_may_not_create_accounts(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    page = await browserless.get("/console/accounts/acme/installations")
    answer = await browserless.post(
        "/console/accounts", data={"id": "sneaky", "csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN
    )
    assert answer.status_code == 403
    operator = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    assert (await browserless.get("/api/accounts/sneaky", headers=operator)).status_code == 404
