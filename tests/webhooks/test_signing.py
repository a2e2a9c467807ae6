"""Both signature schemes: the platform's vectors reproduced, and Standard Webhooks verified by its own package."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from appinstall.webhooks.envelope import encode
from appinstall.webhooks.signing import (
    platform_signature,
    receiver_secret,
    signature_headers,
    standard_signature,
    verify_platform_signature,
    verify_standard_signature,
)

FIXTURES = Path(__file__).parent / "fixtures"
VECTOR_SECRET = "rl9hacst6kqilbofup64n11ga3"


def _fixture_body(name: str) -> bytes:
    return encode(json.loads((FIXTURES / name).read_text()))


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("platform_chat_state_pause.json", "sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI="),
        ("platform_conversation_close.json", "sha1=CKiT6u4nb4Mpi0tdbCbgBXKAF1E="),
    ],
)
def test_the_platform_signature_reproduces_the_demo_connectors_vectors(fixture: str, expected: str) -> None:
    assert platform_signature(VECTOR_SECRET, _fixture_body(fixture)) == expected


def test_the_platform_signature_changes_when_one_byte_of_the_body_changes() -> None:
    body = _fixture_body("platform_chat_state_pause.json")
    assert not verify_platform_signature(
        VECTOR_SECRET, body.replace(b"PAUSE", b"PAUSF"), platform_signature(VECTOR_SECRET, body)
    )


def _standard_headers(secrets: list[str], body: bytes, timestamp: int) -> dict[str, str]:
    return signature_headers(
        account_id="42257269", client_id="client", secrets=secrets, message_id="msg_1", timestamp=timestamp, body=body
    )


def test_the_standard_webhooks_package_verifies_our_signature() -> None:
    body = _fixture_body("platform_conversation_close.json")
    timestamp = int(time.time())
    headers = _standard_headers([VECTOR_SECRET], body, timestamp)
    payload = Webhook(receiver_secret(VECTOR_SECRET)).verify(body, headers)
    assert payload["type"] == "cqm.ExConversationChangeNotification"


@pytest.mark.parametrize("held", ["current-secret", "old-secret"])
def test_during_a_grace_period_a_receiver_holding_either_secret_verifies(held: str) -> None:
    body = _fixture_body("platform_chat_state_pause.json")
    timestamp = int(time.time())
    headers = _standard_headers(["current-secret", "old-secret"], body, timestamp)
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(receiver_secret(held)).verify(body, headers)


def test_the_standard_webhooks_package_rejects_a_tampered_body() -> None:
    body = _fixture_body("platform_chat_state_pause.json")
    headers = _standard_headers([VECTOR_SECRET], body, int(time.time()))
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver_secret(VECTOR_SECRET)).verify(body + b" ", headers)


def test_the_platform_header_is_signed_with_the_current_secret_only() -> None:
    body = b'{"kind":"notification"}'
    headers = _standard_headers(["current", "old"], body, 1_700_000_000)
    assert headers["x-liveperson-signature"] == platform_signature("current", body)


def test_the_standard_signature_covers_the_id_and_the_timestamp() -> None:
    body = b"{}"
    assert standard_signature(["s"], "msg_1", 1, body) != standard_signature(["s"], "msg_2", 1, body)
    assert standard_signature(["s"], "msg_1", 1, body) != standard_signature(["s"], "msg_1", 2, body)


def test_our_own_verifier_refuses_an_old_timestamp() -> None:
    body = b"{}"
    headers = _standard_headers(["s"], body, 1_000)
    assert verify_standard_signature(["s"], headers, body, now=1_000)
    assert not verify_standard_signature(["s"], headers, body, now=1_000 + 301)


def test_signing_without_a_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        _standard_headers([], b"{}", 1)
