"""Both signature schemes: the platform's vectors reproduced, and Standard Webhooks verified by its own package."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from appinstall.connector.signing import (
    Algorithm,
    Encoding,
    platform_form,
    platform_signature,
    receiver_secret,
    signature_headers,
    standard_signature,
    verify_platform_signature,
    verify_standard_signature,
)
from appinstall.webhooks.envelope import encode

FIXTURES = Path(__file__).parents[1] / "webhooks" / "fixtures"
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


# Made once, independently of this code, over the exact bytes of the fixture's compact JSON (written to body.bin by
# ``encode``), with ``openssl dgst -sha1|-sha256 -hmac rl9hacst6kqilbofup64n11ga3 -binary < body.bin`` piped to
# ``base64`` or to ``xxd -p -c 256``. The sha1/base64 one is the demo connector's vector above.
@pytest.mark.parametrize(
    ("algorithm", "encoding", "expected"),
    [
        ("sha1", "hex", "sha1=7bf4df4b4c2fd476ef12c32a70132614b70cb252"),
        ("sha256", "base64", "sha256=PH84lxXVcKluSQQ3Fy8oaaZe1vDHZ3JZMNEQoQjUjsU="),
        ("sha256", "hex", "sha256=3c7f389715d570a96e490437172f2869a65ed6f0c767725930d110a108d48ec5"),
    ],
)
def test_the_platform_signature_matches_openssl_in_each_algorithm_and_encoding(
    algorithm: Algorithm, encoding: Encoding, expected: str
) -> None:
    assert platform_signature(VECTOR_SECRET, _fixture_body("platform_chat_state_pause.json"), algorithm, encoding) == (
        expected
    )


@pytest.mark.parametrize(
    ("header", "form"),
    [
        ("sha1=e/TfS0wv1HbvEsMqcBMmFLcMslI=", ("sha1", "base64")),
        ("sha1=7bf4df4b4c2fd476ef12c32a70132614b70cb252", ("sha1", "hex")),
        ("sha256=PH84lxXVcKluSQQ3Fy8oaaZe1vDHZ3JZMNEQoQjUjsU=", ("sha256", "base64")),
        ("sha256=3C7F389715D570A96E490437172F2869A65ED6F0C767725930D110A108D48EC5", ("sha256", "hex")),
    ],
)
def test_the_form_of_a_platform_signature_is_read_from_its_prefix_and_length(
    header: str, form: tuple[str, str]
) -> None:
    assert platform_form(header) == form


@pytest.mark.parametrize(
    "header",
    [
        "md5=e/TfS0wv1HbvEsMqcBMmFLcMslI=",
        "e/TfS0wv1HbvEsMqcBMmFLcMslI=",
        "sha256=e/TfS0wv1HbvEsMqcBMmFLcMslI=",  # a SHA-1 length under the SHA-256 prefix
        "sha1=7bf4df4b4c2fd476ef12c32a70132614b70cb25z",
        "sha1=",
    ],
)
def test_a_header_in_no_known_form_has_none(header: str) -> None:
    assert platform_form(header) is None


@pytest.mark.parametrize(
    ("algorithm", "encoding"), [("sha1", "base64"), ("sha1", "hex"), ("sha256", "base64"), ("sha256", "hex")]
)
def test_each_form_verifies_and_refuses_a_changed_body(algorithm: Algorithm, encoding: Encoding) -> None:
    body = _fixture_body("platform_conversation_close.json")
    header = platform_signature(VECTOR_SECRET, body, algorithm, encoding)
    assert verify_platform_signature(VECTOR_SECRET, body, header)
    assert not verify_platform_signature(VECTOR_SECRET, body + b" ", header)


def test_a_hex_signature_verifies_in_upper_case_too() -> None:
    body = b"{}"
    header = platform_signature("s", body, "sha256", "hex")
    assert verify_platform_signature("s", body, header.upper().replace("SHA256=", "sha256="))


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


def test_the_platform_header_is_signed_in_the_accounts_algorithm_and_encoding() -> None:
    body = b'{"kind":"notification"}'
    headers = signature_headers(
        account_id="1",
        client_id="c",
        secrets=["current"],
        message_id="msg_1",
        timestamp=1,
        body=body,
        algorithm="sha256",
        encoding="hex",
    )
    assert headers["x-liveperson-signature"] == platform_signature("current", body, "sha256", "hex")
    assert headers["webhook-signature"] == standard_signature(["current"], "msg_1", 1, body)


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
