"""The session cookie's signature: what it accepts and what it refuses, without I/O."""

from __future__ import annotations

import base64

from appinstall.console import cookies
from appinstall.store.keyring import Keyring
from tests.conftest import TEST_MASTER_KEY

KEY = cookies.signing_key(Keyring.parse(TEST_MASTER_KEY))
OTHER_KEY = cookies.signing_key(Keyring.parse(base64.b64encode(bytes(range(1, 33))).decode()))


def test_a_signed_token_is_read_back() -> None:
    token = cookies.new_token()
    assert cookies.unsign(KEY, cookies.sign(KEY, token)) == token


def test_a_token_with_an_altered_signature_is_refused() -> None:
    value = cookies.sign(KEY, cookies.new_token())
    altered = value[:-1] + ("A" if value[-1] != "A" else "B")
    assert cookies.unsign(KEY, altered) is None


def test_a_token_signed_with_another_key_is_refused() -> None:
    assert cookies.unsign(KEY, cookies.sign(OTHER_KEY, cookies.new_token())) is None


def test_a_value_without_a_signature_is_refused() -> None:
    assert cookies.unsign(KEY, cookies.new_token()) is None
    assert cookies.unsign(KEY, "") is None
    assert cookies.unsign(KEY, ".") is None


def test_the_signing_key_is_not_the_master_key() -> None:
    assert KEY not in Keyring.parse(TEST_MASTER_KEY).keys
