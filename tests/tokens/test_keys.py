"""Signing keys: the lifecycle as pure code, rotation end to end, and every supported algorithm."""

from __future__ import annotations

import jwt
import pytest

from appinstall.tokens.errors import PlatformError
from appinstall.tokens.keys import KeySet, SigningKey, load_keys, rotate
from appinstall.tokens.service import TokenService
from tests.tokens.conftest import Clock


def _key(kid: str, activates_at: int, retires_at: int | None = None, created_at: int = 0) -> SigningKey:
    return SigningKey(kid, "RS256", "", {"kid": kid}, created_at, activates_at, retires_at)


def test_the_most_recently_activated_key_signs() -> None:
    keys = KeySet((_key("old", 0), _key("new", 100)))
    assert keys.signer(50) == keys.keys[0]
    assert keys.signer(100) == keys.keys[1]


def test_a_key_not_yet_active_verifies_but_does_not_sign() -> None:
    keys = KeySet((_key("old", 0), _key("new", 100)))
    assert keys.verifier("new", 50) is not None
    assert [k["kid"] for k in keys.jwks(50)["keys"]] == ["old", "new"]


def test_a_retired_key_neither_signs_nor_verifies_nor_is_published() -> None:
    keys = KeySet((_key("old", 0, retires_at=200), _key("new", 100)))
    assert keys.verifier("old", 199) is not None
    assert keys.verifier("old", 200) is None
    assert [k["kid"] for k in keys.jwks(200)["keys"]] == ["new"]


def test_no_key_signs_when_every_key_is_retired() -> None:
    assert KeySet((_key("old", 0, retires_at=10),)).signer(10) is None


# --- With a store --------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_rotation_end_to_end(tokens: tuple[TokenService, Clock]) -> None:
    service, clock = tokens
    old_token = await service.issue_consumer_jws("1", "x")
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    new_key = await rotate(service.store, "RS256", activate_in_ms=60_000, longest_token_ms=3_600_000)
    clock.now += 31_000  # past the key refresh interval: this process sees the new key
    published = [key["kid"] for key in (await service.keys()).jwks(clock.now)["keys"]]
    assert sorted(published) == sorted([old_kid, new_key.kid])
    assert jwt.get_unverified_header(await service.issue_consumer_jws("1", "x"))["kid"] == old_kid

    clock.now += 30_000  # the new key is active
    assert jwt.get_unverified_header(await service.issue_consumer_jws("1", "x"))["kid"] == new_key.kid
    assert (await service.verify_consumer_jws(old_token, "1")).ext_consumer_id == "x"

    clock.now += 3_600_000  # the old key's last token has expired: the key retires
    published = [key["kid"] for key in (await service.keys()).jwks(clock.now)["keys"]]
    assert published == [new_key.kid]
    with pytest.raises(PlatformError):
        await service.verify_consumer_jws(old_token, "1")


@pytest.mark.anyio
async def test_a_second_rotation_prunes_retired_keys(tokens: tuple[TokenService, Clock]) -> None:
    service, clock = tokens
    await rotate(service.store, "RS256", activate_in_ms=0, longest_token_ms=1_000)
    clock.now += 2_000
    await rotate(service.store, "RS256", activate_in_ms=0, longest_token_ms=1_000)
    assert len((await load_keys(service.store)).keys) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
async def test_other_algorithms_sign_verifiable_tokens(algorithm: str, tokens: tuple[TokenService, Clock]) -> None:
    service, clock = tokens
    clock.now += 1_000
    await rotate(service.store, algorithm, activate_in_ms=0, longest_token_ms=3_600_000)
    clock.now += 31_000
    token = await service.issue_consumer_jws("1", "x")
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    assert (await service.verify_consumer_jws(token, "1")).ext_consumer_id == "x"
