"""The keys pages through HTTP: an account's admin keys (made, shown once, revoked) and the operator's signing keys."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import TEST_OPERATOR_TOKEN
from tests.console.conftest import Tenant, csrf_of, sign_in

pytestmark = pytest.mark.anyio

SAME_ORIGIN = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}
KEYS = "/console/accounts/acme/keys"
SIGNING_KEYS = "/console/signing-keys"
KID = re.compile(r'/console/signing-keys/([^/"]+)/revoke')


async def _create(client: httpx.AsyncClient, name: str) -> httpx.Response:
    page = await client.get(KEYS)
    return await client.post(KEYS, data={"csrf_token": csrf_of(page.text), "name": name}, headers=SAME_ORIGIN)


async def _revoke(client: httpx.AsyncClient, key_id: str) -> httpx.Response:
    page = await client.get(KEYS)
    return await client.post(f"{KEYS}/{key_id}/revoke", data={"csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN)


def _new_key(page: str) -> str:
    found = re.search(r'id="new-key"[^>]*value="(aik_[^"]+)"', page)
    assert found, "the page shows no new key"
    return found.group(1)


async def test_the_keys_page_lists_the_accounts_keys(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    page = await browserless.get(KEYS)
    assert page.status_code == 200
    assert f'action="{KEYS}"' in page.text and f'action="{KEYS}/{tenant.key_id}/revoke"' in page.text
    assert tenant.key_id in page.text and "(this session's key)" in page.text
    assert tenant.key not in page.text


async def test_a_new_key_is_shown_once_and_never_again(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    made = await _create(browserless, "deploy bot")
    assert made.status_code == 201 and "only this once" in made.text
    key = _new_key(made.text)
    assert key not in str(made.url)
    listed = await browserless.get(KEYS)
    assert "deploy bot" in listed.text and key not in listed.text and 'id="new-key"' not in listed.text
    works = await browserless.get("/api/account/acme/sandbox/agent", headers={"Authorization": f"Bearer {key}"})
    assert works.status_code == 200


async def test_a_revoked_key_no_longer_works(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    key = _new_key((await _create(browserless, "short-lived")).text)
    key_id = re.search(r"short-lived</td>\s*<td><code>([0-9a-f]+)</code>", (await browserless.get(KEYS)).text)
    assert key_id
    answer = await _revoke(browserless, key_id.group(1))
    assert answer.status_code == 303 and answer.headers["location"] == KEYS
    assert "revoked" in (await browserless.get(KEYS)).text
    refused = await browserless.get("/api/account/acme/sandbox/agent", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 401


async def test_revoking_the_sessions_own_key_signs_it_out(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    page = await browserless.get(KEYS)
    assert "you are signed out" in page.text
    answer = await _revoke(browserless, tenant.key_id)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"
    assert any(
        cookie.startswith("appinstall-session=;") or 'appinstall-session=""' in cookie
        for cookie in answer.headers.get_list("set-cookie")
    )
    after = await browserless.get(KEYS)
    assert after.status_code == 303 and after.headers["location"].startswith("/console/sign-in")


async def test_revoking_an_unknown_key_is_a_not_found_page(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    for key_id in ("0000000000000000", "x" * 500):
        answer = await _revoke(browserless, key_id)
        assert answer.status_code == 404 and answer.headers["content-type"].startswith("text/html")


async def test_a_key_is_not_made_without_the_csrf_token(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    answer = await browserless.post(KEYS, data={"name": "forged"}, headers=SAME_ORIGIN)
    assert answer.status_code == 403
    assert "forged" not in (await browserless.get(KEYS)).text


async def test_the_operator_lists_rotates_and_revokes_signing_keys(browserless: httpx.AsyncClient) -> None:
    await sign_in(browserless, TEST_OPERATOR_TOKEN)
    await browserless.get("/.well-known/jwks.json")  # the first key is made on first use
    page = await browserless.get(SIGNING_KEYS)
    assert page.status_code == 200
    before = set(KID.findall(page.text))
    rotated = await browserless.post(
        SIGNING_KEYS,
        data={"csrf_token": csrf_of(page.text), "activate_in": "60", "algorithm": "ES256"},
        headers=SAME_ORIGIN,
    )
    assert rotated.status_code == 303
    page = await browserless.get(rotated.headers["location"])
    [added] = set(KID.findall(page.text)) - before
    assert f"Added key <code>{added}</code>" in page.text and "next" in page.text
    revoked = await browserless.post(
        f"{SIGNING_KEYS}/{added}/revoke", data={"csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN
    )
    assert revoked.status_code == 303
    assert added not in (await browserless.get(SIGNING_KEYS)).text


async def test_a_rotation_with_odd_values_is_refused(browserless: httpx.AsyncClient) -> None:
    await sign_in(browserless, TEST_OPERATOR_TOKEN)
    csrf = csrf_of((await browserless.get(SIGNING_KEYS)).text)
    for fields in ({"activate_in": "-5"}, {"activate_in": "9" * 30}, {"algorithm": "HS256"}):
        answer = await browserless.post(SIGNING_KEYS, data={"csrf_token": csrf, **fields}, headers=SAME_ORIGIN)
        assert answer.status_code == 400, fields


async def test_an_admin_key_cannot_see_or_change_signing_keys(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    assert (await browserless.get(SIGNING_KEYS)).status_code == 403
    csrf = csrf_of((await browserless.get(KEYS)).text)
    rotated = await browserless.post(SIGNING_KEYS, data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert rotated.status_code == 403
    revoked = await browserless.post(f"{SIGNING_KEYS}/any/revoke", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert revoked.status_code == 403


@pytest.mark.parametrize("key_id", ["%00", "%C3%A9", "%20"])
async def test_strange_characters_in_a_key_id_are_refused(
    browserless: httpx.AsyncClient, tenant: Tenant, key_id: str
) -> None:
    await sign_in(browserless, tenant.key)
    assert (await _revoke(browserless, key_id)).status_code in (400, 404)


async def test_strange_characters_in_a_kid_are_refused(browserless: httpx.AsyncClient) -> None:
    await sign_in(browserless, TEST_OPERATOR_TOKEN)
    csrf = csrf_of((await browserless.get(SIGNING_KEYS)).text)
    for kid in ("%00", "x" * 500):
        answer = await browserless.post(f"{SIGNING_KEYS}/{kid}/revoke", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
        assert answer.status_code in (400, 404)
