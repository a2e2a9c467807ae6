"""The installations API at the platform's paths, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appinstall.registry import clients
from appinstall.registry.tables import client_secrets
from appinstall.store import Store
from tests.conftest import SEED, SEED_BYTES
from tests.database_work import counting

pytestmark = pytest.mark.anyio

ACCOUNT = "12345678"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/accounts", json={"id": ACCOUNT})
    assert response.status_code == 201
    return ACCOUNT


async def _install(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post(BASE, json={**SEED, **changes})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _store(app: FastAPI) -> Store:
    store: Store = app.state.store
    return store


# --- Create --------------------------------------------------------------------------------------------------


async def test_create_returns_the_stored_installation_with_credentials(client: httpx.AsyncClient, account: str) -> None:
    before = int(time.time())
    response = await client.post(f"{BASE}?v=1.0", content=SEED_BYTES, headers=JSON)
    assert response.status_code == 201
    body = response.json()
    assert body["client_id"] == body["id"]
    assert len(body["client_secret"]) >= 43  # 32 random bytes, base64url
    assert body["client_secret_expires_at"] == 0
    assert before <= body["client_id_issued_at"] <= int(time.time())
    assert (body["enabled"], body["deleted"]) == (True, False)
    for key in SEED:
        assert key in body
    assert response.headers["Location"] == f"{BASE}/{body['id']}"
    assert (response.headers["ETag"], response.headers["ac-revision"]) == ('"1"', "1")


async def test_create_normalises_the_manifest(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, json={"client_name": "  Trimmed  "})
    body = response.json()
    assert body["client_name"] == "Trimmed"
    assert (body["grant_types"], body["scope"]) == (["client_credentials"], "msg.consumer")


async def test_every_manifest_error_comes_back_with_its_pointer(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, json={"client_name": "", "scpoe": "x", "logo_uri": "http://x"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 400 and problem["type"].endswith("/invalid-manifest")
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        ("/client_name", "blank"),
        ("/logo_uri", "invalid_url"),
        ("/scpoe", "unknown_key"),
    ]


async def test_duplicate_keys_in_the_body_are_refused(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, content=b'{"client_name": "a", "client_name": "b"}', headers=JSON)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "duplicate_key"


async def test_broken_json_is_a_400_naming_line_and_column(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, content=b'{"client_name": ', headers=JSON)
    assert response.status_code == 400
    assert "line 1, column 17" in response.json()["errors"][0]["message"]


async def test_a_body_that_is_not_json_is_415(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, content=SEED_BYTES, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_body_over_the_limit_is_413(client: httpx.AsyncClient, account: str) -> None:
    response = await client.post(BASE, content=b" " * 70_000 + SEED_BYTES, headers=JSON)
    assert response.status_code == 413


async def test_a_streamed_body_over_the_limit_is_413(client: httpx.AsyncClient, account: str) -> None:
    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    response = await client.post(BASE, content=chunks(), headers=JSON)
    assert response.status_code == 413


async def test_the_client_cannot_choose_its_secret(client: httpx.AsyncClient, account: str) -> None:
    body = await _install(client, client_secret="chosen-by-me")
    assert body["client_secret"] != "chosen-by-me"


async def test_an_unknown_account_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/account/999/configuration/app-install/installations", json=SEED)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")


# --- Unique names --------------------------------------------------------------------------------------------


async def test_client_name_is_unique_ignoring_case(client: httpx.AsyncClient, account: str) -> None:
    await _install(client, client_name="Acme")
    response = await client.post(BASE, json={**SEED, "client_name": "ACME"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["pointer"] == "/client_name"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Straße", "STRASSE"),
        ("Caf\u00e9", "Cafe\u0301"),
        ("Acme", "\uff21\uff43\uff4d\uff45"),
        ("Acme", "\U0001d400\U0001d41c\U0001d426\U0001d41e"),
        ("Acme", "Ac\u200bme\u2060"),
        ("My App", "my\u00a0\u00a0app"),
    ],
    ids=["sharp-s", "nfc-nfd", "fullwidth", "math-bold", "zero-width", "other-spaces"],
)
async def test_names_that_fold_to_one_name_are_one_name(
    client: httpx.AsyncClient, account: str, first: str, second: str
) -> None:
    await _install(client, client_name=first)
    response = await client.post(BASE, json={**SEED, "client_name": second})
    assert response.status_code == 409, response.text
    assert response.json()["type"].endswith("/client-name-taken")
    found = await client.get(BASE, params={"client_name": second})
    assert [item["client_name"] for item in found.json()] == [first]


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200c\u200d", " \ufeff ", "\u3164\u3164", "\u00a0\u2003"])
async def test_a_name_of_only_invisible_characters_is_refused(
    client: httpx.AsyncClient, account: str, name: str
) -> None:
    response = await client.post(BASE, json={**SEED, "client_name": name})
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["pointer"] == "/client_name"


async def test_a_deleted_installation_frees_its_name(client: httpx.AsyncClient, account: str) -> None:
    first = await _install(client, client_name="Acme")
    assert (await client.delete(f"{BASE}/{first['id']}")).status_code == 204
    await _install(client, client_name="acme")


async def test_racing_creates_with_one_name_make_exactly_one_installation(
    client: httpx.AsyncClient, account: str
) -> None:
    responses = await asyncio.gather(*[client.post(BASE, json={**SEED, "client_name": "Race"}) for _ in range(8)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7


async def test_renaming_onto_a_taken_name_is_409(client: httpx.AsyncClient, account: str) -> None:
    await _install(client, client_name="Taken")
    other = await _install(client, client_name="Other")
    response = await client.patch(f"{BASE}/{other['id']}", json={"client_name": "taken"}, headers={"If-Match": "1"})
    assert response.status_code == 409


# --- Read and list -------------------------------------------------------------------------------------------


async def test_get_returns_the_installation_with_its_revision(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.get(f"{BASE}/{created['id']}?v=1.0")
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["ac-revision"] == "1"


async def test_get_with_an_admin_key_reads_on_one_connection(
    client: httpx.AsyncClient, account: str, app: FastAPI
) -> None:
    """The key's lookup and the installation with its current secret (joined): one checkout, two queries."""
    created = await _install(client)
    rotated = (await client.post(f"{BASE}/{created['id']}/secret", params={"grace_seconds": 60})).json()
    key = (await client.post(f"/api/accounts/{ACCOUNT}/keys", json={})).json()["key"]
    with counting(_store(app)) as work:
        response = await client.get(f"{BASE}/{created['id']}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["client_secret"] == rotated["client_secret"]
    assert (work.checkouts, work.queries) == (1, 2)


async def test_an_unknown_installation_is_404(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(f"{BASE}/no-such-id")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/installation-not-found")


async def test_the_list_is_a_json_array_and_hides_deleted_ones(client: httpx.AsyncClient, account: str) -> None:
    kept = await _install(client, client_name="Kept")
    gone = await _install(client, client_name="Gone")
    await client.delete(f"{BASE}/{gone['id']}")
    assert [item["id"] for item in (await client.get(BASE)).json()] == [kept["id"]]
    listed = (await client.get(BASE, params={"include_deleted": "true"})).json()
    assert [(item["id"], item["deleted"]) for item in listed] == [(kept["id"], False), (gone["id"], True)]


async def test_the_list_pages_with_a_next_link(client: httpx.AsyncClient, account: str) -> None:
    ids = [(await _install(client, client_name=f"App {n}"))["id"] for n in range(5)]
    seen: list[str] = []
    url: str | None = f"{BASE}?limit=2"
    while url:
        response = await client.get(url)
        seen += [item["id"] for item in response.json()]
        link = response.headers.get("Link")
        url = link.split(">")[0].lstrip("<") if link else None
    assert seen == ids


async def test_a_forged_cursor_is_400(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(BASE, params={"cursor": "not-a-cursor"})
    assert response.status_code == 400


async def test_filter_by_name_ignores_case(client: httpx.AsyncClient, account: str) -> None:
    wanted = await _install(client, client_name="Wanted")
    await _install(client, client_name="Other")
    listed = (await client.get(BASE, params={"client_name": "wanted"})).json()
    assert [item["id"] for item in listed] == [wanted["id"]]


# --- Replace (PUT) -------------------------------------------------------------------------------------------


async def test_put_without_if_match_is_428(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.put(f"{BASE}/{created['id']}", json=created)
    assert response.status_code == 428


async def test_put_with_a_stale_revision_is_412(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.put(f"{BASE}/{created['id']}", json=created, headers={"If-Match": "7"})
    assert response.status_code == 412
    assert response.json()["current_revision"] == 1


async def test_put_of_the_object_read_by_get_replaces_it(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    read = await client.get(f"{BASE}/{created['id']}")
    changed = {**read.json(), "description": "Changed", "enabled": False}
    response = await client.put(
        f"{BASE}/{created['id']}?v=1.0", json=changed, headers={"If-Match": read.headers["ac-revision"]}
    )
    assert response.status_code == 200, response.text
    assert response.json() == changed
    assert (response.headers["ac-revision"], response.headers["ETag"]) == ("2", '"2"')


async def test_put_replaces_the_whole_object(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.put(f"{BASE}/{created['id']}", json={"client_name": "Bare"}, headers={"If-Match": '"1"'})
    body = response.json()
    assert "capabilities" not in body and "description" not in body
    assert body["client_secret"] == created["client_secret"]


async def test_put_cannot_change_the_id_or_the_secret(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    body = {**created, "id": "other", "client_secret": "guess"}
    response = await client.put(f"{BASE}/{created['id']}", json=body, headers={"If-Match": "1"})
    assert response.status_code == 400
    assert [e["pointer"] for e in response.json()["errors"]] == ["/id", "/client_secret"]


async def test_put_with_an_invalid_manifest_changes_nothing(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.put(f"{BASE}/{created['id']}", json={"client_name": 5}, headers={"If-Match": "1"})
    assert response.status_code == 400
    assert (await client.get(f"{BASE}/{created['id']}")).json() == created


async def test_of_two_puts_from_one_revision_exactly_one_wins(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    responses = await asyncio.gather(
        *[
            client.put(f"{BASE}/{created['id']}", json={**created, "description": f"v{n}"}, headers={"If-Match": "1"})
            for n in range(4)
        ]
    )
    assert sorted(r.status_code for r in responses) == [200, 412, 412, 412]


# --- Merge patch ---------------------------------------------------------------------------------------------


async def test_patch_merges_and_null_removes(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    patch = {"description": None, "capabilities": {"engagement": {"goal": ["lead"]}}}
    response = await client.patch(
        f"{BASE}/{created['id']}",
        content=json.dumps(patch),
        headers={"If-Match": "1", "Content-Type": "application/merge-patch+json"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "description" not in body
    assert body["capabilities"]["engagement"]["goal"] == ["lead"]
    assert body["capabilities"]["webhooks"] == created["capabilities"]["webhooks"]


async def test_patch_of_enabled_toggles_the_app(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.patch(f"{BASE}/{created['id']}", json={"enabled": False}, headers={"If-Match": "1"})
    assert response.json()["enabled"] is False
    listed = (await client.get(BASE, params={"enabled": "false"})).json()
    assert [item["id"] for item in listed] == [created["id"]]


async def test_patch_errors_point_into_the_merged_document(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    patch = {"capabilities": {"engagement": {"design_window": True}}}
    response = await client.patch(f"{BASE}/{created['id']}", json=patch, headers={"If-Match": "1"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["pointer"] == "/capabilities/engagement/design_window"


async def test_patch_needs_if_match(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    assert (await client.patch(f"{BASE}/{created['id']}", json={"description": "x"})).status_code == 428


async def test_patch_must_be_an_object(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    response = await client.patch(f"{BASE}/{created['id']}", json=["x"], headers={"If-Match": "1"})
    assert response.status_code == 400


# --- Delete --------------------------------------------------------------------------------------------------


async def test_delete_is_soft_and_final(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    assert (await client.delete(f"{BASE}/{created['id']}?v=1.0")).status_code == 204
    read = (await client.get(f"{BASE}/{created['id']}")).json()
    assert (read["deleted"], read["enabled"]) == (True, False)
    assert (await client.delete(f"{BASE}/{created['id']}")).status_code == 404
    update = await client.put(f"{BASE}/{created['id']}", json=created, headers={"If-Match": "*"})
    assert update.status_code == 404


async def test_delete_with_a_stale_if_match_is_412(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    assert (await client.delete(f"{BASE}/{created['id']}", headers={"If-Match": "3"})).status_code == 412


async def test_a_deleted_installation_no_longer_authenticates(
    client: httpx.AsyncClient, account: str, app: FastAPI
) -> None:
    created = await _install(client)
    await client.delete(f"{BASE}/{created['id']}")
    verified = await clients.verify_client_secret(_store(app), created["id"], created["client_secret"])
    assert verified is not None and verified.deleted  # the token service refuses deleted installations


# --- Secrets -------------------------------------------------------------------------------------------------


async def test_the_secret_is_encrypted_at_rest(client: httpx.AsyncClient, account: str, app: FastAPI) -> None:
    created = await _install(client)
    async with _store(app).engine.connect() as connection:
        stored = (await connection.execute(select(client_secrets.c.ciphertext))).scalar_one()
    assert created["client_secret"].encode() not in stored


async def test_rotation_issues_a_new_secret_and_keeps_the_old_one_for_the_grace(
    client: httpx.AsyncClient, account: str, app: FastAPI
) -> None:
    store = _store(app)
    created = await _install(client)
    response = await client.post(f"{BASE}/{created['id']}/secret", params={"grace_seconds": 60})
    assert response.status_code == 200
    rotated = response.json()
    assert rotated["client_secret"] != created["client_secret"]
    assert response.headers["ac-revision"] == "2"
    assert await clients.verify_client_secret(store, created["id"], rotated["client_secret"]) is not None
    assert await clients.verify_client_secret(store, created["id"], created["client_secret"]) is not None
    real_clock = store.clock
    store.clock = lambda: real_clock() + 61_000
    try:
        assert await clients.verify_client_secret(store, created["id"], created["client_secret"]) is None
        assert await clients.verify_client_secret(store, created["id"], rotated["client_secret"]) is not None
    finally:
        store.clock = real_clock


async def test_at_most_five_old_secrets_are_kept(client: httpx.AsyncClient, account: str, app: FastAPI) -> None:
    created = await _install(client)
    secrets = [created["client_secret"]]
    for _ in range(7):
        secrets.append((await client.post(f"{BASE}/{created['id']}/secret")).json()["client_secret"])
    valid = [await clients.verify_client_secret(_store(app), created["id"], s) is not None for s in secrets]
    assert valid == [False, False, True, True, True, True, True, True]


async def test_a_wrong_secret_does_not_verify(client: httpx.AsyncClient, account: str, app: FastAPI) -> None:
    created = await _install(client)
    assert await clients.verify_client_secret(_store(app), created["id"], "wrong") is None
    assert await clients.verify_client_secret(_store(app), "no-such-client", "wrong") is None


async def test_the_default_grace_comes_from_the_settings(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    before = int(time.time())
    rotated = (await client.post(f"{BASE}/{created['id']}/secret")).json()
    assert before + 86_400 <= rotated["previous_secret_valid_until"] <= int(time.time()) + 86_400


# --- Discovery -----------------------------------------------------------------------------------------------


async def test_discovery_by_event_type_and_engagement_combines_filters(client: httpx.AsyncClient, account: str) -> None:
    full = await _install(client, client_name="Full")
    minimal = await _install(client, client_name="Minimal", capabilities={})

    async def found(**params: Any) -> list[str]:
        return [item["id"] for item in (await client.get(BASE, params=params)).json()]

    assert await found(event_type="ms.MessagingEventNotification.ChatStateEvent") == [full["id"]]
    assert await found(event_type="ChatStateEvent") == [full["id"]]
    assert await found(entry_point="section", goal=["lead", "url"]) == [full["id"]]
    assert await found(goal=["lead", "not-a-goal"]) == []
    assert await found(consumer_identity="unauth") == []
    assert await found() == [full["id"], minimal["id"]]


async def test_the_operator_discovers_across_accounts(client: httpx.AsyncClient, account: str) -> None:
    here = await _install(client)
    await client.post("/api/accounts", json={"id": "other"})
    other = await client.post("/api/account/other/configuration/app-install/installations", json=SEED)
    found = (await client.get("/api/installations", params={"visitor_behavior": "cart_items"})).json()
    assert sorted(item["id"] for item in found) == sorted([here["id"], other.json()["id"]])


# --- Audit ---------------------------------------------------------------------------------------------------


async def test_every_change_is_in_the_audit_trail(client: httpx.AsyncClient, account: str) -> None:
    created = await _install(client)
    await client.patch(f"{BASE}/{created['id']}", json={"description": "x"}, headers={"If-Match": "1"})
    await client.post(f"{BASE}/{created['id']}/secret")
    await client.delete(f"{BASE}/{created['id']}")
    trail = (await client.get(f"{BASE}/{created['id']}/audit")).json()
    assert [(event["action"], event["revision"], event["actor"]) for event in trail] == [
        ("create", 1, "operator"),
        ("patch", 2, "operator"),
        ("rotate_secret", 3, "operator"),
        ("delete", 4, "operator"),
    ]
    assert trail[1]["detail"] == {"changed": ["description"]}


async def test_discovery_by_an_unknown_event_type_lists_the_five(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(BASE, params={"event_type": "TypingEvent"})
    assert response.status_code == 400
    problem = response.json()
    assert problem["type"].endswith("/unknown-event-type")
    assert "ChatStateEvent" in problem["detail"] and "ExConversationChangeNotification" in problem["detail"]
