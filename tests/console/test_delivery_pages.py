"""The delivery pages over HTTP: the account's list and its filters, a delivery's page, retry, recover and
re-enable, with real deliveries sent by the app's worker to a scripted receiver."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appinstall.settings import Settings
from appinstall.webhooks.account_log import SETTLE_MS
from tests.console.conftest import Tenant, csrf_of, make_tenant, sign_in
from tests.webhooks.delivery_fixtures import delivering, receiver
from tests.webhooks.flow import ACCOUNT, CHAT_STATE, CONTENT, JSON_TYPE, install, message, publish, settled
from tests.webhooks.receiver import Receiver, Reply

pytestmark = pytest.mark.anyio

__all__ = ["receiver"]

LIST = f"/console/accounts/{ACCOUNT}/deliveries"
SAME_ORIGIN = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}
_ROW = re.compile(r'<tr data-id="([^"]+)" data-status="([^"]+)">')


@pytest.fixture
def settings(settings: Settings, tls_files: tuple[Path, Path, Path]) -> Settings:
    """The app's worker on, sending to the test receiver."""
    return delivering(settings, tls_files)


@pytest.fixture
async def signed_in(browserless: httpx.AsyncClient) -> Tenant:
    """The account the deliveries go to, its admin signed in on ``browserless``."""
    tenant = await make_tenant(browserless, ACCOUNT)
    assert (await sign_in(browserless, tenant.key)).status_code == 303
    return tenant


def shown_ids(page: str) -> list[str]:
    """The delivery ids of the list's rows, top to bottom."""
    return [found.group(1) for found in _ROW.finditer(page)]


async def deliver(client: httpx.AsyncClient, installation: dict[str, Any], *conversations: str) -> list[str]:
    """Publish one message per conversation, in order, and wait until all are sent; their delivery ids."""
    ids = [(await publish(client, message(conversation, "hi")))[0]["id"] for conversation in conversations]
    await settled(client, installation["id"], len(ids))
    return ids


def delivery_url(installation: dict[str, Any], delivery_id: str) -> str:
    return f"/console/accounts/{ACCOUNT}/installations/{installation['id']}/deliveries/{delivery_id}"


async def test_the_list_shows_the_accounts_deliveries_newest_first_with_their_installation(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver)
    ids = await deliver(client, installation, "c-1", "c-2", "c-3")
    page = await browserless.get(LIST)
    assert page.status_code == 200
    assert shown_ids(page.text) == list(reversed(ids))
    assert installation["client_name"] in page.text
    assert delivery_url(installation, ids[0]) in page.text


async def test_the_list_keeps_to_the_chosen_status(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    receiver.then("/hook", Reply(500), containing=b"c-bad")
    installation = await install(client, receiver)
    good, bad = await deliver(client, installation, "c-good", "c-bad")
    failed = await browserless.get(LIST, params={"status": "failed"})
    assert shown_ids(failed.text) == [bad]
    succeeded = await browserless.get(LIST, params={"status": "succeeded"})
    assert shown_ids(succeeded.text) == [good]


async def test_the_list_keeps_to_the_chosen_installation(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    first = await install(client, receiver, path="/one")
    second = await install(client, receiver, path="/two")
    created = await publish(client, message("c-1", "hi"))
    mine = [item["id"] for item in created if item["installation_id"] == second["id"]]
    page = await browserless.get(LIST, params={"installation": second["id"]})
    assert shown_ids(page.text) == mine
    assert len(await settled(client, first["id"], 1)) == 1  # the other installation's is there, and not shown


async def test_the_list_keeps_to_the_chosen_event_type_and_conversation(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver, events=(CONTENT, CHAT_STATE))
    first, second = await deliver(client, installation, "c-1", "c-2")
    assert shown_ids((await browserless.get(LIST, params={"conversation": "c-2"})).text) == [second]
    assert shown_ids((await browserless.get(LIST, params={"event_type": "ContentEvent"})).text) == [second, first]
    assert shown_ids((await browserless.get(LIST, params={"event_type": "ChatStateEvent"})).text) == []


async def test_older_deliveries_are_a_link_away(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    await install(client, receiver)
    documents = [message(f"c-{number}", "hi") for number in range(55)]
    batch = await client.post(
        f"/api/account/{ACCOUNT}/notifications:batch", content=json.dumps(documents), headers=JSON_TYPE
    )
    assert batch.status_code == 202
    ids = [result["deliveries"][0]["id"] for result in batch.json()["notifications"]]
    first = await browserless.get(LIST, params={"conversation": "", "status": ""})
    assert shown_ids(first.text) == list(reversed(ids))[:50]
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first.text)
    assert older is not None
    second = await browserless.get(older.group(1).replace("&amp;", "&"))
    assert shown_ids(second.text) == list(reversed(ids))[50:]
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"event_type": "NoSuchEvent"},
        {"since": "yesterday"},
        {"until": "99999999999999999999"},
        {"cursor": "not-a-cursor!"},
        {"installation": "no-such-installation"},
        {"conversation": "c" * 101},
    ],
)
async def test_a_bad_filter_is_a_400_page_with_the_form_kept(
    browserless: httpx.AsyncClient, signed_in: Tenant, params: dict[str, str]
) -> None:
    page = await browserless.get(LIST, params=params)
    assert page.status_code == 400
    assert 'role="alert"' in page.text
    assert 'method="get"' in page.text


async def test_updates_bring_what_was_published_after_the_page_and_where_watched_ones_stand(
    app: FastAPI, browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver)
    [before] = await deliver(client, installation, "c-1")
    page = await browserless.get(LIST)
    live = re.search(r'data-live-url="([^"]+)"', page.text)
    assert live is not None
    [after] = await deliver(client, installation, "c-2")
    answer = await browserless.get(live.group(1).replace("&amp;", "&") + f"&watch={before}")
    assert answer.status_code == 200
    update = answer.json()
    # Newest first; rows of the last seconds come again until surely committed (``SETTLE_MS``): the page skips them.
    assert [row["id"] for row in update["rows"]] in ([after], [after, before])
    assert update["rows"][0]["installation"] == installation["client_name"]
    assert update["states"] == [
        {"id": before, "status": "succeeded", "status_class": "ok", "attempts": 1, "last_status_code": 200}
    ]
    store = app.state.store
    later = store.clock() + SETTLE_MS + 1
    store.clock = lambda: later
    caught_up = await browserless.get(f"{LIST}/updates", params={"after": update["newest"]})
    again = await browserless.get(f"{LIST}/updates", params={"after": caught_up.json()["newest"]})
    assert again.json()["rows"] == []


async def test_another_tenants_delivery_is_not_found_like_a_missing_one(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, receiver: Receiver
) -> None:
    await make_tenant(browserless, ACCOUNT)
    intruder = await make_tenant(browserless, "intruder")
    installation = await install(client, receiver)
    [delivery] = await deliver(client, installation, "c-1")
    assert (await sign_in(browserless, intruder.key)).status_code == 303
    theirs = await browserless.get(delivery_url(installation, delivery))
    missing = await browserless.get(delivery_url(installation, "no-such-delivery"))
    assert theirs.status_code == missing.status_code == 404
    mine_by_their_path = f"/console/accounts/intruder/installations/{installation['id']}/deliveries/{delivery}"
    assert (await browserless.get(mine_by_their_path)).status_code == 404
    assert (await browserless.get(f"{LIST}")).status_code == 404


async def test_a_deliverys_page_shows_its_body_and_attempts_and_masks_secrets_and_signatures(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    receiver.then("/hook", Reply(500, body=b"receiver says no"))
    installation = await install(
        client, receiver, headers=[{"header_name": "Authorization", "header_value": "Bearer t0psecret"}]
    )
    [delivery] = await deliver(client, installation, "c-masked")
    page = await browserless.get(delivery_url(installation, delivery))
    assert page.status_code == 200
    sent = {name.lower(): value for name, value in receiver.received[0].headers.items()}
    assert sent["authorization"] == "Bearer t0psecret"
    for secret in ("t0psecret", sent["x-liveperson-signature"].split("=", 1)[1], sent["webhook-signature"][3:]):
        assert secret not in page.text
    assert "x-liveperson-signature" in page.text.lower()
    assert "c-masked" in page.text  # the body
    assert "receiver says no" in page.text  # the attempt's response excerpt
    assert ">500<" in page.text


async def test_retry_without_the_csrf_token_is_refused(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver)
    [delivery] = await deliver(client, installation, "c-1")
    refused = await browserless.post(delivery_url(installation, delivery) + "/retry", data={}, headers=SAME_ORIGIN)
    assert refused.status_code == 403
    assert len(receiver.received) == 1


async def test_retry_sends_a_failed_delivery_again_and_the_page_says_it_was_queued(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    receiver.then("/hook", Reply(500))
    installation = await install(client, receiver)
    [delivery] = await deliver(client, installation, "c-1")
    url = delivery_url(installation, delivery)
    page = await browserless.get(url)
    retried = await browserless.post(url + "/retry", data={"csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN)
    assert retried.status_code == 303
    assert retried.headers["location"] == url + "?retried=1"
    assert "Queued again" in (await browserless.get(retried.headers["location"])).text
    [again] = await settled(client, installation["id"], 1)
    assert (again["status"], again["attempts"]) == ("succeeded", 2)


async def test_recover_queues_the_failed_deliveries_again_and_says_how_many(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    receiver.then("/hook", Reply(500), Reply(500))
    installation = await install(client, receiver)
    await deliver(client, installation, "c-1", "c-2")
    url = f"/console/accounts/{ACCOUNT}/installations/{installation['id']}/webhooks"
    page = await browserless.get(url)
    assert page.status_code == 200
    form = {"csrf_token": csrf_of(page.text), "since": "2000-01-01T00:00"}
    recovered = await browserless.post(url + "/recover", data=form, headers=SAME_ORIGIN)
    assert recovered.status_code == 303
    shown = await browserless.get(recovered.headers["location"])
    assert "2 failed deliveries queued again" in shown.text
    assert "recovered" in shown.text  # the history


async def test_recover_with_a_bad_time_is_a_400_page(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver)
    url = f"/console/accounts/{ACCOUNT}/installations/{installation['id']}/webhooks"
    form = {"csrf_token": csrf_of((await browserless.get(url)).text), "since": "last week"}
    assert (await browserless.post(url + "/recover", data=form, headers=SAME_ORIGIN)).status_code == 400


async def test_a_webhook_disabled_by_410_is_shown_with_its_history_and_re_enabled(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    receiver.then("/hook", Reply(410))
    installation = await install(client, receiver)
    await deliver(client, installation, "c-1")
    url = f"/console/accounts/{ACCOUNT}/installations/{installation['id']}/webhooks"
    page = await browserless.get(url)
    assert "disabled" in page.text and "410" in page.text
    assert "Re-enable ContentEvent" in page.text
    form = {"csrf_token": csrf_of(page.text), "event_type": CONTENT}
    enabled = await browserless.post(url + "/enable", data=form, headers=SAME_ORIGIN)
    assert enabled.status_code == 303
    shown = await browserless.get(enabled.headers["location"])
    assert "Re-enabled the ContentEvent webhook" in shown.text
    assert "Re-enable ContentEvent" not in shown.text
    assert "webhook re-enabled" in shown.text and "webhook disabled" in shown.text
    api = f"/api/account/{ACCOUNT}/configuration/app-install/installations/{installation['id']}/webhooks"
    [health] = (await client.get(api)).json()
    assert health["enabled"] is True


@pytest.mark.parametrize(
    "path",
    [
        f"/console/accounts/{ACCOUNT}/installations/{'x' * 5000}/deliveries/{'y' * 5000}",
        f"/console/accounts/{ACCOUNT}/installations/no-such-installation/webhooks",
        f"/console/accounts/{ACCOUNT}/installations/%E2%80%AE/deliveries/%20",
    ],
)
async def test_odd_ids_in_a_path_are_a_404_page(browserless: httpx.AsyncClient, signed_in: Tenant, path: str) -> None:
    page = await browserless.get(path)
    assert page.status_code == 404
    assert "Not found" in page.text


@pytest.mark.parametrize("query", ["?after=%21%21", "?after=MQ&watch=" + "&watch=".join(["d"] * 201)])
async def test_updates_without_a_good_cursor_or_with_too_many_watched_are_refused(
    browserless: httpx.AsyncClient, signed_in: Tenant, query: str
) -> None:
    assert (await browserless.get(f"{LIST}/updates{query}")).status_code == 400


async def test_updates_without_a_cursor_say_only_where_the_watched_deliveries_stand(
    browserless: httpx.AsyncClient, client: httpx.AsyncClient, signed_in: Tenant, receiver: Receiver
) -> None:
    installation = await install(client, receiver)
    [delivery] = await deliver(client, installation, "c-1")
    answer = (await browserless.get(f"{LIST}/updates", params={"watch": delivery})).json()
    assert answer["rows"] == [] and answer["newest"] is None
    assert [(state["id"], state["status"]) for state in answer["states"]] == [(delivery, "succeeded")]
