"""Hostile input answers 400 with a problem that says where, on both engines (each of these answered 500 once)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.http.hostile import CURSOR_VALUES, GOOD_TEXTS, url_encoded

pytestmark = pytest.mark.anyio

ACCOUNT = "guarded"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
JSON = {"Content-Type": "application/json"}


def _manifest(client_name: str, **fields: Any) -> dict[str, Any]:
    return {"client_name": client_name, "grant_types": ["client_credentials"], "scope": "msg.consumer", **fields}


@pytest.fixture
async def installation(client: httpx.AsyncClient) -> dict[str, Any]:
    assert (await client.post("/api/accounts", json={"id": ACCOUNT})).status_code == 201
    webhooks = {"ms.MessagingEventNotification.ContentEvent": {"endpoint": "https://example.com/hook"}}
    response = await client.post(BASE, json=_manifest("guarded-app", capabilities={"webhooks": webhooks}))
    assert response.status_code == 201, response.text
    installed: dict[str, Any] = response.json()
    return installed


@pytest.fixture
async def anonymous(app: FastAPI) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://appinstall.test") as http:
        yield http


def _refused_at(response: httpx.Response, pointer: str, code: str) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("/invalid-input")
    [error] = problem["errors"]
    assert (error["pointer"], error["code"]) == (pointer, code)
    assert pointer.lstrip("/") in problem["detail"] and "UTF-8" in error["hint"]


def _notification(text_json: str) -> bytes:
    """A notification whose message is the raw JSON text given (so it can carry escapes json.dumps never writes)."""
    change = (
        '{"sequence": 0, "originatorId": "c", "originatorMetadata": {"id": "c", "role": "CONSUMER"}, '
        '"serverTimestamp": 1528371161893, "conversationId": "conv-1", "dialogId": "conv-1", '
        f'"event": {{"type": "ContentEvent", "contentType": "text/plain", "message": {text_json}}}}}'
    )
    envelope = '{"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": [CHANGE]}}'
    return envelope.replace("CHANGE", change).encode()


# --- NUL: PostgreSQL refuses it in text, so it answered 500 on every route that stores or looks it up --------------


async def test_a_nul_in_the_csds_path_is_refused_without_credentials(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/account/" + url_encoded(b"a\x00b") + "/service/baseURI.json")
    _refused_at(response, "/path", "nul_character")


async def test_a_nul_in_a_token_request_is_refused_without_credentials(anonymous: httpx.AsyncClient) -> None:
    form = b"grant_type=client_credentials&client_id=a%00b&client_secret=s"
    response = await anonymous.post(
        "/oauth2/token", content=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    _refused_at(response, "/form/client_id", "nul_character")


@pytest.mark.parametrize("client_id", ["a\x00b", "a%00b"], ids=["raw", "form-encoded"])
@pytest.mark.parametrize("path", ["/oauth2/token", f"/sentinel/api/account/{ACCOUNT}/app/token"])
async def test_a_nul_in_basic_credentials_is_an_oauth_invalid_request(
    anonymous: httpx.AsyncClient, path: str, client_id: str
) -> None:
    """Inside base64, the credentials are out of the edge's sight: the token endpoint checks them itself."""
    basic = base64.b64encode(f"{client_id}:secret".encode()).decode()
    response = await anonymous.post(
        path, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request" and "NUL" in response.json()["error_description"]


async def test_a_nul_in_a_query_filter_is_refused(client: httpx.AsyncClient, installation: dict[str, Any]) -> None:
    response = await client.get(f"{BASE}?client_name=a%00b")
    _refused_at(response, "/query/client_name", "nul_character")


async def test_a_nul_escape_in_a_json_body_is_refused(client: httpx.AsyncClient) -> None:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    response = await client.post(f"/api/accounts/{ACCOUNT}/keys", content=b'{"name": "a\\u0000b"}', headers=JSON)
    _refused_at(response, "/body/name", "nul_character")


# --- Lone surrogates: not Unicode text, so no engine can store them ----------------------------------------------


async def test_a_lone_surrogate_in_a_notification_is_refused(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    body = _notification('"\\ud800"')
    response = await client.post(f"/api/account/{ACCOUNT}/notifications", content=body, headers=JSON)
    _refused_at(response, "/body/body/changes/0/event/message", "lone_surrogate")


async def test_a_lone_surrogate_in_a_client_name_is_refused(client: httpx.AsyncClient) -> None:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    body = json.dumps(_manifest("PLACE")).replace("PLACE", "app \\udc00").encode()
    _refused_at(await client.post(BASE, content=body, headers=JSON), "/body/client_name", "lone_surrogate")


async def test_deep_nesting_in_a_notification_is_refused(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    response = await client.post(
        f"/api/account/{ACCOUNT}/notifications", content=_notification("[" * 5000 + "]" * 5000), headers=JSON
    )
    _refused_at_depth = response.json()
    assert response.status_code == 400, response.text
    assert _refused_at_depth["errors"][0]["code"] == "too_deep"


# --- Moments and cursors: overflowing integers and 5,000 digits ------------------------------------------------


async def test_a_moment_past_the_year_9999_is_refused(client: httpx.AsyncClient, installation: dict[str, Any]) -> None:
    for name in ("since", "until"):
        for value in ("9" * 30, "1" * 5000, "253402300800000"):
            response = await client.get(f"{BASE}/{installation['id']}/deliveries", params={name: value})
            assert response.status_code == 400, (name, value[:20], response.text)
            assert response.json()["type"].endswith("/invalid-parameter") and name in response.json()["detail"]


async def test_recover_since_past_the_year_9999_is_refused(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    response = await client.post(f"{BASE}/{installation['id']}/deliveries/recover", params={"since": "9" * 30})
    assert response.status_code == 400, response.text


async def test_the_latest_moment_is_accepted(client: httpx.AsyncClient, installation: dict[str, Any]) -> None:
    response = await client.get(f"{BASE}/{installation['id']}/deliveries", params={"until": "253402300799999"})
    assert response.status_code == 200, response.text


async def test_a_malformed_delivery_cursor_is_refused(client: httpx.AsyncClient, installation: dict[str, Any]) -> None:
    for what, cursor in CURSOR_VALUES.items():
        response = await client.get(f"{BASE}/{installation['id']}/deliveries", params={"cursor": cursor.decode()})
        assert response.status_code == 400, (what, response.text)
        assert response.json()["type"].endswith("/invalid-cursor")


@pytest.mark.parametrize("path", [BASE, "/api/installations"])
async def test_a_malformed_installation_cursor_is_refused(
    client: httpx.AsyncClient, installation: dict[str, Any], path: str
) -> None:
    for what, cursor in CURSOR_VALUES.items():
        response = await client.get(path, params={"cursor": cursor.decode()})
        assert response.status_code == 400, (what, response.text)
        assert response.json()["type"].endswith("/invalid-cursor")


async def test_an_over_long_installation_cursor_is_refused(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps([1, "x" * 5000]).encode()).decode()
    assert (await client.get(BASE, params={"cursor": cursor})).status_code == 400


async def test_cursors_this_server_gives_out_still_page(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    await client.post(BASE, json=_manifest("second-app"))
    first = await client.get(BASE, params={"limit": 1})
    next_url = first.headers["Link"].split(">")[0].lstrip("<")
    second = await client.get(next_url)
    assert second.status_code == 200 and [item["client_name"] for item in second.json()] == ["second-app"]


# --- Text that must keep working ------------------------------------------------------------------------------


@pytest.mark.parametrize("ensure_ascii", [True, False], ids=["escaped", "raw"])
async def test_unicode_text_is_stored_and_read_back(client: httpx.AsyncClient, ensure_ascii: bool) -> None:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    description = " ".join(GOOD_TEXTS)
    body = json.dumps(_manifest("アプリ 👋", description=description), ensure_ascii=ensure_ascii).encode()
    created = await client.post(BASE, content=body, headers=JSON)
    assert created.status_code == 201, created.text
    read = (await client.get(f"{BASE}/{created.json()['id']}")).json()
    assert (read["client_name"], read["description"]) == ("アプリ 👋", description)


async def test_a_notification_with_emoji_and_combining_marks_is_published(
    client: httpx.AsyncClient, installation: dict[str, Any]
) -> None:
    message = json.dumps("e\u0301 \U0001f44b 漢字")  # the emoji as an escaped surrogate pair
    response = await client.post(f"/api/account/{ACCOUNT}/notifications", content=_notification(message), headers=JSON)
    assert response.status_code == 202, response.text
    assert len(response.json()["deliveries"]) == 1
