"""Webhook header values sealed for storage, opened for use, masked for show (pure, no store)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from appinstall.errors import Invalid
from appinstall.manifest.vocabulary import LEGACY_EX_CONVERSATION_CHANGE
from appinstall.registry.header_values import (
    MASK,
    SEALED,
    has_plain_values,
    keep_masked_values,
    masked_values,
    open_values,
    reseal_values,
    seal_values,
)
from appinstall.store.keyring import Keyring, KeyringError, generate_key

CONTENT = "ms.MessagingEventNotification.ContentEvent"
KEYRING = Keyring.parse(generate_key())


def _manifest(**values: str) -> dict[str, Any]:
    headers = [{"header_name": name, "header_value": value} for name, value in values.items()]
    return {
        "client_name": "app",
        "capabilities": {
            "webhooks": {CONTENT: {"endpoint": "https://example.com/hook", "headers": headers}, "retry": {}}
        },
    }


def _values(document: dict[str, Any]) -> list[str]:
    return [header["header_value"] for header in document["capabilities"]["webhooks"][CONTENT]["headers"]]


def test_a_sealed_value_holds_no_plain_text_and_opens_to_what_was_sealed() -> None:
    plain = _manifest(Authorization="Bearer receiver-token")
    sealed = seal_values(plain, KEYRING, "inst-1")
    [value] = _values(sealed)
    assert value.startswith(SEALED) and "receiver-token" not in value
    assert not has_plain_values(sealed) and has_plain_values(plain)
    assert open_values(sealed, KEYRING, "inst-1") == plain
    assert _values(plain) == ["Bearer receiver-token"]  # the input is not changed


def test_a_sealed_value_does_not_open_for_another_installation() -> None:
    sealed = seal_values(_manifest(Authorization="x"), KEYRING, "inst-1")
    with pytest.raises(KeyringError):
        open_values(sealed, KEYRING, "inst-2")


def test_a_plain_value_stored_before_sealing_reads_as_it_is() -> None:
    assert open_values(_manifest(X="plain"), KEYRING, "inst-1") == _manifest(X="plain")


def test_masked_values_show_only_the_mask() -> None:
    assert _values(masked_values(_manifest(A="1", B="2"))) == [MASK, MASK]


def test_a_masked_value_sent_back_keeps_the_stored_one_by_header_name_ignoring_case() -> None:
    current = _manifest(Authorization="secret", X="old")
    sent = _manifest(authorization=MASK, X="new")
    assert _values(keep_masked_values(sent, current)) == ["secret", "new"]


def test_a_masked_value_with_nothing_stored_to_keep_is_refused_at_its_pointer() -> None:
    with pytest.raises(Invalid) as refused:
        keep_masked_values(_manifest(Other=MASK), _manifest(Authorization="secret"))
    assert refused.value.kind == "invalid-manifest"
    [problem] = refused.value.problems
    assert problem.pointer == f"/capabilities/webhooks/{CONTENT}/headers/0/header_value"
    assert problem.code == "masked_value"


def test_resealing_moves_values_to_the_first_key_and_then_has_nothing_to_do() -> None:
    old = Keyring.parse(generate_key())
    rotated = Keyring(((new_key := Keyring.parse(generate_key())).keys[0], old.keys[0]))
    stored = seal_values(_manifest(Authorization="secret"), old, "inst-1")
    resealed = reseal_values(copy.deepcopy(stored), rotated, "inst-1")
    assert resealed is not None
    assert open_values(resealed, new_key, "inst-1") == _manifest(Authorization="secret")
    assert reseal_values(resealed, rotated, "inst-1") is None


def test_a_webhook_under_the_legacy_conversation_change_key_has_its_values_sealed_too() -> None:
    legacy = LEGACY_EX_CONVERSATION_CHANGE
    plain = {"capabilities": {"webhooks": {legacy: {"endpoint": "https://example.com/c", "headers": []}}}}
    plain["capabilities"]["webhooks"][legacy]["headers"] = [{"header_name": "X-Token", "header_value": "t0ken"}]
    sealed = seal_values(plain, KEYRING, "inst-1")
    [header] = sealed["capabilities"]["webhooks"][legacy]["headers"]
    assert header["header_value"].startswith(SEALED)
    assert open_values(sealed, KEYRING, "inst-1") == plain
