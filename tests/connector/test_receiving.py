"""The receiver SDK: both signature schemes verified on the platform's vectors and on our own headers, rotation,
every refusal with its reason, the five event types parsed from wire-format bodies, and the framework helpers."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from appinstall.connector import (
    AcceptStatusEvent,
    ChatStateEvent,
    ContentEvent,
    ConversationChange,
    MessagingChange,
    Notification,
    OtherEvent,
    RichContentEvent,
    Scheme,
    WebhookVerificationError,
    fastapi_verifier,
    flask_verify,
    parse,
    verify,
)
from appinstall.connector.signing import Algorithm, Encoding, platform_signature, signature_headers
from appinstall.webhooks.envelope import encode

FIXTURES = Path(__file__).parents[1] / "webhooks" / "fixtures"
VECTOR_SECRET = "rl9hacst6kqilbofup64n11ga3"
NOW = 1_764_072_000
CONVERSATION = "5491244f-4b2c-4b8a-9d47-1e9b3c1f2a7e"
CONSUMER = "ade26082-6f73-4c0b-a4e4-6d0d08e9d0a5"


def _fixture_body(name: str) -> bytes:
    return encode(json.loads((FIXTURES / name).read_text()))


def _messaging(event: dict[str, Any], role: str = "CONSUMER", **change: Any) -> bytes:
    """A messaging notification with one change, shaped like the wire format's examples."""
    return encode(
        {
            "kind": "notification",
            "body": {
                "changes": [
                    {
                        "sequence": 0,
                        "originatorId": CONSUMER,
                        "originatorMetadata": {"id": CONSUMER, "role": role},
                        "serverTimestamp": 1528371161893,
                        "event": event,
                        "conversationId": CONVERSATION,
                        "dialogId": CONVERSATION,
                        **change,
                    }
                ]
            },
            "type": "ms.MessagingEventNotification",
        }
    )


HELLO = _messaging({"type": "ContentEvent", "message": "Hello from Consumer", "contentType": "text/plain"})
HELLO_PARSED = parse(HELLO)  # what a verified request gives its receiver


def _signed(body: bytes, secrets: list[str] | None = None, timestamp: int = NOW) -> dict[str, str]:
    return signature_headers(
        account_id="123",
        client_id="client",
        secrets=secrets or [VECTOR_SECRET],
        message_id="msg_1",
        timestamp=timestamp,
        body=body,
    )


def _standard_only(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name != "x-liveperson-signature"}


def _platform_only(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if not name.startswith("webhook-")}


# --- Signatures ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "signature"),
    [
        ("platform_chat_state_pause.json", "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI="),
        ("platform_conversation_close.json", "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E="),
    ],
)
def test_the_platform_vectors_verify(fixture: str, signature: str) -> None:
    notification = verify(
        _fixture_body(fixture), {"x-liveperson-signature": signature}, VECTOR_SECRET, scheme="platform"
    )
    assert notification.conversation_id == "b8b83fe9-75f0-46f2-baaa-2930f7192cfb"


def test_header_names_are_matched_whatever_their_case() -> None:
    headers = {name.title(): value for name, value in _signed(HELLO).items()}
    assert "X-Liveperson-Signature" in headers and "Webhook-Signature" in headers
    assert verify(HELLO, headers, VECTOR_SECRET, now=NOW).event_type == "ms.MessagingEventNotification.ContentEvent"


def test_the_standard_headers_alone_verify() -> None:
    assert verify(HELLO, _standard_only(_signed(HELLO)), VECTOR_SECRET, now=NOW) == HELLO_PARSED


def test_a_tampered_body_is_refused_as_a_bad_signature() -> None:
    tampered = HELLO.replace(b"Hello", b"Hallo")
    with pytest.raises(WebhookVerificationError, match="bad signature in x-liveperson-signature"):
        verify(tampered, _signed(HELLO), VECTOR_SECRET, now=NOW)


def test_a_tampered_body_is_refused_by_the_standard_scheme_too() -> None:
    tampered = HELLO.replace(b"Hello", b"Hallo")
    with pytest.raises(WebhookVerificationError, match="bad signature in webhook-signature"):
        verify(tampered, _standard_only(_signed(HELLO)), VECTOR_SECRET, now=NOW)


@pytest.mark.parametrize(
    ("headers", "scheme"), [(_platform_only, "platform"), (_standard_only, "any")], ids=["platform", "standard"]
)
def test_the_secret_may_be_given_in_its_standard_webhooks_form(
    headers: Callable[[dict[str, str]], dict[str, str]], scheme: Scheme
) -> None:
    """What the standardwebhooks package takes: whsec_ + base64 of the client secret."""
    whsec = "whsec_" + base64.b64encode(VECTOR_SECRET.encode()).decode()
    assert verify(HELLO, headers(_signed(HELLO)), whsec, scheme=scheme, now=NOW) == HELLO_PARSED


def test_a_whsec_secret_that_is_not_base64_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="whsec_ secret must be base64"):
        verify(HELLO, _signed(HELLO), "whsec_not base64!", now=NOW)


def test_a_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="bad signature"):
        verify(HELLO, _signed(HELLO), "not-the-secret", now=NOW)


def test_a_stale_timestamp_is_refused_with_how_old_it_is() -> None:
    with pytest.raises(WebhookVerificationError, match=r"stale timestamp: webhook-timestamp is 301 s from now"):
        verify(HELLO, _signed(HELLO), VECTOR_SECRET, now=NOW + 301)


def test_a_timestamp_within_the_tolerance_verifies() -> None:
    assert verify(HELLO, _signed(HELLO), VECTOR_SECRET, now=NOW + 300) == HELLO_PARSED


def test_the_clock_is_used_when_no_time_is_given() -> None:
    assert verify(HELLO, _signed(HELLO, timestamp=int(time.time())), VECTOR_SECRET) == HELLO_PARSED
    with pytest.raises(WebhookVerificationError, match="stale timestamp"):
        verify(HELLO, _signed(HELLO, timestamp=int(time.time()) - 3600), VECTOR_SECRET)


def test_a_request_without_signature_headers_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="missing header: neither x-liveperson-signature nor webhook"):
        verify(HELLO, {"content-type": "application/json"}, VECTOR_SECRET, now=NOW)


def test_a_standard_signature_without_its_id_is_refused() -> None:
    headers = _standard_only(_signed(HELLO))
    del headers["webhook-id"]
    with pytest.raises(WebhookVerificationError, match="missing header webhook-id"):
        verify(HELLO, headers, VECTOR_SECRET, now=NOW)


def test_every_scheme_present_must_verify() -> None:
    headers = {**_signed(HELLO), "x-liveperson-signature": platform_signature("other", HELLO)}
    with pytest.raises(WebhookVerificationError, match="bad signature in x-liveperson-signature"):
        verify(HELLO, headers, VECTOR_SECRET, now=NOW)


def test_by_default_a_captured_request_replayed_without_its_standard_headers_is_refused() -> None:
    """x-liveperson-signature has no timestamp: stripped of the webhook-* headers, a captured request would verify
    for ever."""
    with pytest.raises(
        WebhookVerificationError, match="alone has no timestamp, so a captured request could be replayed"
    ):
        verify(HELLO, _platform_only(_signed(HELLO)), VECTOR_SECRET, now=NOW + 86_400)


def test_by_default_a_captured_request_replayed_with_its_headers_is_refused_once_stale() -> None:
    with pytest.raises(WebhookVerificationError, match="stale timestamp"):
        verify(HELLO, _signed(HELLO), VECTOR_SECRET, now=NOW + 86_400)


def test_by_default_a_replay_with_a_forged_fresh_timestamp_is_refused() -> None:
    headers = {**_signed(HELLO), "webhook-timestamp": str(NOW + 86_400)}
    with pytest.raises(WebhookVerificationError, match="bad signature in webhook-signature"):
        verify(HELLO, headers, VECTOR_SECRET, now=NOW + 86_400)


def test_the_platform_scheme_is_an_explicit_choice_that_accepts_an_old_request() -> None:
    """What the platform sends, so what scheme='platform' must accept; its docstring says to drop repeats."""
    verified = verify(HELLO, _platform_only(_signed(HELLO)), VECTOR_SECRET, scheme="platform", now=NOW + 86_400)
    assert verified == HELLO_PARSED


def test_the_platform_scheme_requires_its_header_even_when_the_standard_one_is_there() -> None:
    with pytest.raises(WebhookVerificationError, match="missing header x-liveperson-signature"):
        verify(HELLO, _standard_only(_signed(HELLO)), VECTOR_SECRET, scheme="platform", now=NOW)


def test_the_standard_scheme_requires_its_headers_even_when_the_platform_one_is_there() -> None:
    with pytest.raises(WebhookVerificationError, match="missing header webhook-id"):
        verify(HELLO, _platform_only(_signed(HELLO)), VECTOR_SECRET, scheme="standard", now=NOW)


@pytest.mark.parametrize(("algorithm", "encoding"), [("sha1", "hex"), ("sha256", "base64"), ("sha256", "hex")])
def test_a_platform_signature_in_the_accounts_chosen_form_verifies(algorithm: Algorithm, encoding: Encoding) -> None:
    headers = {"x-liveperson-signature": platform_signature(VECTOR_SECRET, HELLO, algorithm, encoding)}
    assert (
        verify(HELLO, headers, VECTOR_SECRET, scheme="platform").event_type
        == "ms.MessagingEventNotification.ContentEvent"
    )


def test_a_sha256_signature_by_another_secret_is_refused() -> None:
    headers = {"x-liveperson-signature": platform_signature("other", HELLO, "sha256", "hex")}
    with pytest.raises(WebhookVerificationError, match="bad signature in x-liveperson-signature"):
        verify(HELLO, headers, VECTOR_SECRET, scheme="platform")


def test_a_platform_signature_in_no_known_form_is_refused_saying_so() -> None:
    headers = {"x-liveperson-signature": "md5=" + platform_signature(VECTOR_SECRET, HELLO).removeprefix("sha1=")}
    with pytest.raises(WebhookVerificationError, match="neither sha1= nor sha256="):
        verify(HELLO, headers, VECTOR_SECRET, scheme="platform")


@pytest.mark.parametrize("signer", ["new-secret", "old-secret"])
def test_a_receiver_holding_both_secrets_accepts_a_platform_signature_by_either(signer: str) -> None:
    headers = {"x-liveperson-signature": platform_signature(signer, HELLO)}
    assert verify(HELLO, headers, ["new-secret", "old-secret"], scheme="platform") == HELLO_PARSED


@pytest.mark.parametrize("held", ["new-secret", "old-secret"])
def test_during_a_rotation_a_receiver_holding_either_secret_verifies_the_standard_headers(held: str) -> None:
    headers = _standard_only(_signed(HELLO, ["new-secret", "old-secret"]))
    assert verify(HELLO, headers, [held], now=NOW) == HELLO_PARSED


def test_verifying_without_a_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        verify(HELLO, _signed(HELLO), [], now=NOW)


def test_the_verification_error_is_a_value_error_with_its_reason() -> None:
    error = WebhookVerificationError("bad signature in x-liveperson-signature")
    assert isinstance(error, ValueError)
    assert error.reason == str(error) == "bad signature in x-liveperson-signature"


def test_a_signed_body_that_is_not_json_is_refused() -> None:
    body = b"hello"
    with pytest.raises(WebhookVerificationError, match="not JSON"):
        verify(body, _signed(body), VECTOR_SECRET, now=NOW)


def test_a_signed_json_body_that_is_not_a_notification_is_refused() -> None:
    body = b'{"kind":"request","body":{"changes":[]}}'
    with pytest.raises(WebhookVerificationError, match="not a notification: kind"):
        verify(body, _signed(body), VECTOR_SECRET, now=NOW)


# --- Models --------------------------------------------------------------------------------------------------


def _only_change(body: bytes) -> MessagingChange:
    change = parse(body).changes[0]
    assert isinstance(change, MessagingChange)
    return change


def test_a_content_event_parses_with_its_text_and_originator() -> None:
    change = _only_change(HELLO)
    assert change.event == ContentEvent(message="Hello from Consumer", content_type="text/plain")
    assert (change.role, change.originator_id, change.sequence, change.server_timestamp) == (
        "CONSUMER",
        CONSUMER,
        0,
        1528371161893,
    )


def test_a_rich_content_event_parses_with_its_content() -> None:
    card = {"type": "vertical", "elements": [{"type": "text", "text": "Product Name"}]}
    change = _only_change(_messaging({"type": "RichContentEvent", "content": card}, role="ASSIGNED_AGENT"))
    assert change.event == RichContentEvent(content=card)
    assert change.role == "ASSIGNED_AGENT"


def test_an_accept_status_event_parses_with_its_sequence_list() -> None:
    change = _only_change(_messaging({"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0, 1]}))
    assert change.event == AcceptStatusEvent(status="READ", sequence_list=[0, 1])


def test_a_chat_state_event_parses_without_sequence_or_timestamp() -> None:
    change = _only_change(_fixture_body("platform_chat_state_pause.json"))
    assert change.event == ChatStateEvent(chat_state="PAUSE")
    assert change.sequence is None and change.server_timestamp is None


def test_a_conversation_change_parses_with_its_state_close_reason_and_dialogs() -> None:
    change = parse(_fixture_body("platform_conversation_close.json")).changes[0]
    assert isinstance(change, ConversationChange)
    details = change.result.conversation_details
    assert details is not None
    assert (change.type, details.state, details.stage, details.close_reason) == ("UPSERT", "CLOSE", "CLOSE", "CONSUMER")
    assert [participant.role for participant in details.participants] == ["CONTROLLER", "CONSUMER"]
    assert details.dialogs[0].closed_by == "CONSUMER"


def test_an_event_type_the_models_do_not_know_still_parses_with_its_fields() -> None:
    change = _only_change(_messaging({"type": "HologramEvent", "depth": 3}))
    assert isinstance(change.event, OtherEvent)
    assert change.event.model_extra == {"depth": 3}
    assert change.event_type == "ms.MessagingEventNotification.HologramEvent"


def test_fields_the_platform_adds_are_kept() -> None:
    change = _only_change(_messaging({"type": "ChatStateEvent", "chatState": "COMPOSING"}, __internal={"x": 1}))
    assert change.model_extra == {"__internal": {"x": 1}}


def test_the_conversation_falls_back_to_the_dialog_id() -> None:
    body = _messaging({"type": "ChatStateEvent", "chatState": "COMPOSING"}, conversationId=None, dialogId="d-1")
    assert parse(body).conversation_id == "d-1"


def test_a_notification_mixing_keys_and_conversations_lists_each_once_in_order() -> None:
    document = json.loads(HELLO)
    first = document["body"]["changes"][0]
    typing = {**first, "event": {"type": "ChatStateEvent", "chatState": "COMPOSING"}}
    document["body"]["changes"] = [first, typing, {**first, "conversationId": "other"}]
    notification = Notification.model_validate(document)
    assert notification.event_types == [
        "ms.MessagingEventNotification.ContentEvent",
        "ms.MessagingEventNotification.ChatStateEvent",
    ]
    assert notification.conversation_ids == [CONVERSATION, "other"]


def test_a_messaging_notification_whose_change_has_no_event_is_refused() -> None:
    body = b'{"kind":"notification","type":"ms.MessagingEventNotification","body":{"changes":[{"type":"UPSERT"}]}}'
    with pytest.raises(WebhookVerificationError, match="must have an event"):
        parse(body)


def test_a_content_event_without_its_message_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="message: Field required"):
        parse(_messaging({"type": "ContentEvent"}))


# --- Framework helpers ---------------------------------------------------------------------------------------


def _fastapi_app() -> FastAPI:
    app = FastAPI()
    verified = fastapi_verifier(["new-secret", VECTOR_SECRET])

    @app.post("/hook")
    async def hook(notification: Notification = Depends(verified)) -> dict[str, str | None]:  # noqa: B008
        return {"event_type": notification.event_type, "conversation_id": notification.conversation_id}

    return app


async def _post(app: FastAPI, body: bytes, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/hook", content=body, headers=headers)


@pytest.mark.anyio
async def test_the_fastapi_dependency_gives_the_endpoint_the_verified_notification() -> None:
    answer = await _post(_fastapi_app(), HELLO, _signed(HELLO, timestamp=int(time.time())))
    assert answer.status_code == 200
    assert answer.json() == {
        "event_type": "ms.MessagingEventNotification.ContentEvent",
        "conversation_id": CONVERSATION,
    }


@pytest.mark.anyio
async def test_the_fastapi_dependency_answers_401_with_the_reason() -> None:
    headers = _signed(HELLO, timestamp=int(time.time()))
    answer = await _post(_fastapi_app(), HELLO + b" ", headers)
    assert answer.status_code == 401
    assert answer.json() == {"detail": "bad signature in x-liveperson-signature"}


class FakeFlaskRequest:
    """What Flask's ``request`` offers that ``flask_verify`` uses, with Flask's Title-Case header names."""

    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self._body = body
        self.headers = {name.title(): value for name, value in headers.items()}

    def get_data(self) -> bytes:
        return self._body


def test_the_flask_helper_verifies_a_request() -> None:
    request = FakeFlaskRequest(HELLO, _signed(HELLO, timestamp=int(time.time())))
    assert flask_verify(request, VECTOR_SECRET).conversation_id == CONVERSATION


def test_the_flask_helper_raises_the_verification_error() -> None:
    request = FakeFlaskRequest(HELLO, _signed(HELLO, timestamp=int(time.time())))
    with pytest.raises(WebhookVerificationError, match="bad signature"):
        flask_verify(request, "not-the-secret")


@pytest.mark.anyio
async def test_the_fastapi_dependency_refuses_a_replay_stripped_of_its_standard_headers() -> None:
    answer = await _post(_fastapi_app(), HELLO, _platform_only(_signed(HELLO, timestamp=int(time.time()))))
    assert answer.status_code == 401
    assert "no timestamp" in answer.json()["detail"]


def test_the_flask_helper_refuses_a_replay_stripped_of_its_standard_headers() -> None:
    request = FakeFlaskRequest(HELLO, _platform_only(_signed(HELLO, timestamp=int(time.time()))))
    with pytest.raises(WebhookVerificationError, match="no timestamp"):
        flask_verify(request, VECTOR_SECRET)


@pytest.mark.parametrize("body", [b'{"n": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000])
def test_a_body_too_long_in_digits_or_too_deep_is_a_verification_error_not_a_crash(body: bytes) -> None:
    with pytest.raises(WebhookVerificationError, match="too long or nesting too deep"):
        parse(body)
