"""The operator's routes for signing keys: list, rotate, revoke, answered by the server that uses them.

Rotating or revoking through the server (``appinstall signing-keys …`` does) rather than in the store from another
process means the answer says what *this server* will do: its token lifetime decides when older keys retire, and its
JWKS and verification change at once (other API processes re-read the keys within ``KEY_REFRESH_MS``).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from appinstall.http.deps import OperatorDep, TokensDep
from appinstall.http.problems import ProblemError
from appinstall.tokens.keys import ALGORITHMS, KeySet, SigningKey, SigningKeyNotFound, revoke, rotate
from appinstall.tokens.service import KEY_REFRESH_MS

router = APIRouter(prefix="/api/signing-keys", tags=["signing keys"])

MAX_ACTIVATE_IN_SECONDS = 30 * 86_400


class KeyView(BaseModel):
    kid: str
    algorithm: str
    state: Literal["signing", "next", "verifying"]
    created_at: int
    activates_at: int
    retires_at: int | None


class KeyList(BaseModel):
    keys: list[KeyView]
    jwks_refresh_seconds: int = Field(description="How soon every API process reflects a change made elsewhere.")


class Rotation(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    activate_in: int = Field(3600, ge=0, le=MAX_ACTIVATE_IN_SECONDS, description="Seconds until the new key signs.")
    algorithm: Literal["RS256", "ES256", "EdDSA"] | None = None


class Rotated(KeyList):
    added: KeyView


class Revoked(KeyList):
    revoked: str
    replacement: KeyView | None


def _view(key: SigningKey, keys: KeySet, now: int) -> KeyView:
    signer = keys.signer(now)
    state: Literal["signing", "next", "verifying"]
    if signer is not None and key.kid == signer.kid:
        state = "signing"
    elif key.activates_at > now:
        state = "next"
    else:
        state = "verifying"
    return KeyView(
        kid=key.kid,
        algorithm=key.algorithm,
        state=state,
        created_at=key.created_at,
        activates_at=key.activates_at,
        retires_at=key.retires_at,
    )


def key_listing(keys: KeySet, now: int) -> dict[str, Any]:
    """The keys that verify now, oldest first, each with its state (the API's list, and the console's)."""
    shown = sorted((key for key in keys.keys if key.verifies_at(now)), key=lambda key: key.created_at)
    return {"keys": [_view(key, keys, now) for key in shown], "jwks_refresh_seconds": KEY_REFRESH_MS // 1000}


@router.get("", response_model=KeyList, summary="The signing keys that verify now, and which one signs")
async def list_signing_keys(tokens: TokensDep, _: OperatorDep) -> KeyList:
    return KeyList(**key_listing(await tokens.reload_keys(), tokens.store.clock()))


@router.post("", status_code=201, response_model=Rotated, summary="Add a signing key; retire the others later")
async def rotate_signing_key(tokens: TokensDep, _: OperatorDep, body: Rotation | None = None) -> Rotated:
    rotation = body or Rotation()
    algorithm = rotation.algorithm or tokens.settings.signing_algorithm
    assert algorithm in ALGORITHMS
    added = await rotate(tokens.store, algorithm, rotation.activate_in * 1000, tokens.ttl_seconds * 1000)
    keys, now = await tokens.reload_keys(), tokens.store.clock()
    return Rotated(added=_view(added, keys, now), **key_listing(keys, now))


@router.delete("/{kid}", response_model=Revoked, summary="Revoke a signing key at once")
async def revoke_signing_key(kid: str, tokens: TokensDep, _: OperatorDep) -> Revoked:
    try:
        replacement = await revoke(tokens.store, kid, tokens.settings.signing_algorithm)
    except SigningKeyNotFound:
        raise ProblemError(
            404, "signing-key-not-found", f"no signing key has the kid {kid!r} (see GET /api/signing-keys)"
        ) from None
    keys, now = await tokens.reload_keys(), tokens.store.clock()
    return Revoked(
        revoked=kid,
        replacement=None if replacement is None else _view(replacement, keys, now),
        **key_listing(keys, now),
    )
