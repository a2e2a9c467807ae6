"""A token whose signature verified is not verified again, and is refused exactly when a fresh check refuses it:
its key revoked (here at once, in another process within the key refresh), its key retired by a rotation, the
token expired, another account."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from appinstall.registry.models import Installation
from appinstall.tokens import service as token_service
from appinstall.tokens.errors import PlatformError
from appinstall.tokens.keys import revoke, rotate
from appinstall.tokens.service import KEY_REFRESH_MS, TokenService
from appinstall.tokens.verified import Verified, VerifiedTokens
from tests.tokens.conftest import Clock

pytestmark = pytest.mark.anyio


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tokens whose signature the service checks, in order."""
    checked: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        checked.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(token_service.jwt, "decode", counting)
    return checked


async def _refusal(service: TokenService, token: str, account: str = "1") -> str:
    with pytest.raises(PlatformError) as refused:
        await service.verify_consumer_jws(token, account)
    assert refused.value.status == 401
    return refused.value.details


async def test_a_token_used_again_has_its_signature_checked_once(
    tokens: tuple[TokenService, Clock], decodes: list[str]
) -> None:
    service, _ = tokens
    token = await service.issue_consumer_jws("1", "x")

    identities = [await service.verify_consumer_jws(token, "1") for _ in range(3)]

    assert decodes == [token]
    assert {identity.ext_consumer_id for identity in identities} == {"x"}


async def test_a_remembered_token_is_refused_at_once_when_its_key_is_revoked_here(
    tokens: tuple[TokenService, Clock],
) -> None:
    service, _ = tokens
    token = await service.issue_consumer_jws("1", "x")
    await service.verify_consumer_jws(token, "1")

    await revoke(service.store, jwt.get_unverified_header(token)["kid"], "RS256")
    await service.reload_keys()  # what the revoke route does

    assert await _refusal(service, token) == "the token's signing key is unknown or retired"


async def test_a_remembered_token_is_refused_within_the_key_refresh_when_another_process_revokes_its_key(
    tokens: tuple[TokenService, Clock],
) -> None:
    service, clock = tokens
    token = await service.issue_consumer_jws("1", "x")
    await service.verify_consumer_jws(token, "1")

    await revoke(service.store, jwt.get_unverified_header(token)["kid"], "RS256")  # not reloaded: elsewhere
    clock.now += KEY_REFRESH_MS

    assert await _refusal(service, token) == "the token's signing key is unknown or retired"


async def test_a_remembered_token_is_refused_once_a_rotation_retires_its_key(
    tokens: tuple[TokenService, Clock],
) -> None:
    service, clock = tokens
    token = await service.issue_consumer_jws("1", "x")
    await service.verify_consumer_jws(token, "1")
    await rotate(service.store, "RS256", activate_in_ms=0, longest_token_ms=60_000)
    await service.reload_keys()
    await service.verify_consumer_jws(token, "1")  # the old key verifies until it retires

    clock.now += 60_000

    assert await _refusal(service, token) == "the token's signing key is unknown or retired"


async def test_a_remembered_token_that_expired_gets_the_same_refusal_as_a_fresh_one(
    tokens: tuple[TokenService, Clock],
) -> None:
    service, clock = tokens
    remembered = await service.issue_consumer_jws("1", "x")
    fresh = await service.issue_consumer_jws("1", "y")
    await service.verify_consumer_jws(remembered, "1")

    clock.now += (service.ttl_seconds + token_service.CLOCK_SKEW_SECONDS) * 1000

    assert await _refusal(service, remembered) == await _refusal(service, fresh) == "the token has expired"


async def test_a_remembered_token_presented_for_another_account_gets_the_same_refusal_as_a_fresh_one(
    tokens: tuple[TokenService, Clock],
) -> None:
    service, _ = tokens
    installation = Installation("installation-1", "1", {}, True, False, 1, 0, 0, 0)
    remembered = await service.issue_app_jwt(installation, "msg.consumer")
    fresh = await service.issue_app_jwt(installation, "msg.consumer")
    with pytest.raises(PlatformError, match="disabled or deleted"):  # the signature verified for account 1 (the
        await service.verify_app_jwt(remembered, "1")  # installation is not in this store, hence the refusal)

    async def refusal(token: str) -> str:
        with pytest.raises(PlatformError) as refused:
            await service.verify_app_jwt(token, "2")
        return refused.value.details

    assert await refusal(remembered) == await refusal(fresh)
    assert (await _refusal(service, await service.issue_consumer_jws("1", "x"), "2")).endswith("of this account")


async def test_a_token_that_failed_is_not_remembered(tokens: tuple[TokenService, Clock], decodes: list[str]) -> None:
    service, _ = tokens
    header, payload, signature = (await service.issue_consumer_jws("1", "x")).split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"

    for _ in range(2):
        await _refusal(service, tampered)

    assert decodes == [tampered, tampered]


def test_the_remembered_tokens_are_bounded_and_the_oldest_is_forgotten_first() -> None:
    remembered = VerifiedTokens(limit=2)
    for token in ("a", "b", "c"):
        remembered.remember(token, None, Verified("kid", "RS256", {"exp": 100}))

    assert len(remembered) == 2
    assert remembered.get("a", None, 0, 0) is None
    assert remembered.get("c", None, 0, 0) is not None


def test_an_expired_token_is_forgotten() -> None:
    remembered = VerifiedTokens(limit=2)
    remembered.remember("a", None, Verified("kid", "RS256", {"exp": 100}))

    assert remembered.get("a", None, 130, 30) is None
    assert len(remembered) == 0
