"""The world the hostile-input fuzz runs in: an account with an installed, subscribed app, its AppJWT and a
consumer's ConsumerJWS, an open conversation, a delivery and an admin key; and a valid request body for each route,
so that one hostile value, put in one place, is all that is wrong with a probe."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import TEST_OPERATOR_TOKEN
from tests.sandbox.conversation import open_requests
from tests.webhooks.flow import message

ACCOUNT = "fuzz"
OPERATOR = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
CONTENT_EVENT = "ms.MessagingEventNotification.ContentEvent"
PLACEHOLDER = "\ue000"  # a private-use character no template contains: where the hostile JSON text goes
FORM = "application/x-www-form-urlencoded"


def _manifest(client_name: str) -> dict[str, Any]:
    return {
        "client_name": client_name,
        "description": "fuzzed",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {
            "webhooks": {
                CONTENT_EVENT: {
                    "endpoint": "https://example.com/hook",
                    "headers": [{"header_name": "X-Tenant", "header_value": "t"}],
                },
                "retry": {"retention_time": 10},
            }
        },
    }


@dataclass
class World:
    """The ids and credentials every route needs to reach its handler."""

    ids: dict[str, str]
    client_id: str
    client_secret: str
    app_jwt: str
    consumer_jws: str
    console: dict[str, str] = field(default_factory=dict)  # the operator's console session: headers that carry it
    counter: list[int] = field(default_factory=lambda: [0])

    def fresh(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}-{self.counter[0]}"


async def build_world(http: httpx.AsyncClient) -> World:
    assert (await http.post("/api/accounts", json={"id": ACCOUNT}, headers=OPERATOR)).status_code == 201
    base = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
    installed = await http.post(base, json=_manifest("fuzzed-app"), headers=OPERATOR)
    assert installed.status_code == 201, installed.text
    installation = installed.json()
    token = await http.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": installation["client_id"],
            "client_secret": installation["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    app_jwt = token.json()["access_token"]
    consumer = await http.post(
        f"/api/account/{ACCOUNT}/consumer", json={"ext_consumer_id": "c1"}, headers={"Authorization": app_jwt}
    )
    assert consumer.status_code == 201, consumer.text
    consumer_jws = consumer.json()["token"]
    opened = await http.post(
        f"/api/account/{ACCOUNT}/messaging/consumer/conversation",
        json=open_requests(ACCOUNT),
        headers={"Authorization": app_jwt, "X-LP-ON-BEHALF": consumer_jws},
    )
    assert opened.status_code == 200, opened.text
    conversation_id = opened.json()[1]["body"]["conversationId"]
    published = await http.post(
        f"/api/account/{ACCOUNT}/notifications", json=message(conversation_id, "hi"), headers=OPERATOR
    )
    assert published.status_code == 202, published.text
    deliveries = (await http.get(f"{base}/{installation['id']}/deliveries", headers=OPERATOR)).json()["items"]
    key = await http.post(f"/api/accounts/{ACCOUNT}/keys", json={"name": "k"}, headers=OPERATOR)
    assert key.status_code == 201, key.text
    # A signing key that does not sign yet: revoking it (the route's probes do) leaves the tokens above valid.
    next_key = await http.post("/api/signing-keys", json={"activate_in": 3600}, headers=OPERATOR)
    assert next_key.status_code == 201, next_key.text
    console = await _console_session(http)
    return World(
        console=console,
        ids={
            "account_id": ACCOUNT,
            "installation_id": installation["id"],
            "conversation_id": conversation_id,
            "delivery_id": deliveries[0]["id"],
            "event_type": CONTENT_EVENT,
            "key_id": key.json()["id"],
            "kid": next_key.json()["added"]["kid"],
            "asset": "swagger-ui.css",  # a file of the API reference's mounted folder
            "rest": "no/such/page",  # the console's "not found" page answers any other path under /console
        },
        client_id=installation["client_id"],
        client_secret=installation["client_secret"],
        app_jwt=app_jwt,
        consumer_jws=consumer_jws,
    )


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _console_session(http: httpx.AsyncClient) -> dict[str, str]:
    """The operator signed in to the console as a browser does; the headers a console request then carries (sent
    by hand, not from the client's cookie jar, so no other route sees them)."""
    form = await http.get("/console/sign-in")
    found = _CSRF.search(form.text)
    assert found, form.text
    origin = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}
    data = {"key": TEST_OPERATOR_TOKEN, "csrf_token": found.group(1)}
    signed_in = await http.post("/console/sign-in", data=data, headers=origin)
    assert signed_in.status_code == 303, signed_in.text
    cookie = http.cookies["appinstall-session"]
    page = await http.get("/console/accounts")
    csrf = _CSRF.search(page.text)
    assert csrf, page.text
    http.cookies.clear()
    return {"Cookie": f"appinstall-session={cookie}", "X-CSRF-Token": csrf.group(1), **origin}


# --- What each route is sent when nothing is wrong ------------------------------------------------------------

QUERY_VALUES = {
    "v": "3",
    "version": "1",
    "limit": "10",
    "since": "0",
    "until": "99999999999999",
    "status": "pending",
    "event_type": CONTENT_EVENT,
    "grace_seconds": "86400",
    "cursor": "",
}


def json_body(method: str, path: str, world: World) -> Any:
    """A valid JSON body for the route, or None when it takes none."""
    conversation = world.ids["conversation_id"]
    event = {"type": "ContentEvent", "message": "hi", "contentType": "text/plain"}
    bodies: dict[tuple[str, str], Callable[[], Any]] = {
        ("POST", "/api/account/{account_id}/consumer"): lambda: {"ext_consumer_id": world.fresh("consumer")},
        ("POST", "/api/account/{account_id}/messaging/consumer/conversation"): lambda: open_requests(ACCOUNT),
        ("POST", "/api/account/{account_id}/messaging/consumer/conversation/send"): lambda: {
            "kind": "req",
            "id": "1",
            "type": "ms.PublishEvent",
            "body": {"dialogId": conversation, "event": event},
        },
        ("POST", "/api/account/{account_id}/sandbox/conversations/{conversation_id}/accept"): lambda: {
            "agent_id": "agent-1"
        },
        ("POST", "/api/account/{account_id}/sandbox/conversations/{conversation_id}/events"): lambda: {"event": event},
        ("PUT", "/api/account/{account_id}/sandbox/agent"): lambda: {"mode": "off"},
        ("POST", "/api/account/{account_id}/notifications"): lambda: message(conversation, "hi"),
        ("POST", "/api/account/{account_id}/notifications:batch"): lambda: [message(conversation, "hi")],
        ("PUT", "/api/account/{account_id}/settings/webhook-signature"): lambda: {
            "algorithm": "sha1",
            "encoding": "base64",
        },
        ("POST", "/api/account/{account_id}/configuration/app-install/installations"): lambda: _manifest(
            world.fresh("app")
        ),
        ("PUT", "/api/account/{account_id}/configuration/app-install/installations/{installation_id}"): lambda: (
            _manifest("fuzzed-app")
        ),
        ("PATCH", "/api/account/{account_id}/configuration/app-install/installations/{installation_id}"): lambda: {
            "description": "patched",
            "client_name": "fuzzed-app",
        },
        ("POST", "/api/accounts"): lambda: {"id": world.fresh("acct")},
        ("POST", "/api/accounts/{account_id}/keys"): lambda: {"name": "k"},
    }
    make = bodies.get((method, path))
    return make() if make is not None else None


def form_body(path: str, world: World) -> dict[str, str] | None:
    if path in ("/oauth2/token", "/sentinel/api/account/{account_id}/app/token"):
        return {"grant_type": "client_credentials", "client_id": world.client_id, "client_secret": world.client_secret}
    return None
