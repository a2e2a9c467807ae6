"""Signing keys: their lifecycle as pure code (``KeySet``), and their storage (sealed by the keyring).

A key *verifies* from the moment it is created (it appears in the JWKS at once, so verifiers can fetch it before
any token is signed with it), *signs* from ``activates_at``, and *retires* once the last token signed by it has
expired, at which point it leaves the JWKS. ``appinstall signing-keys rotate`` uses exactly this: a new key that
activates later, and the old key's retirement set to that moment plus the longest token lifetime.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from sqlalchemy import delete, insert, select, update

from appinstall.store import Store
from appinstall.store.keyring import key_id_of
from appinstall.store.sealed import signing_key_context
from appinstall.tokens.tables import signing_keys

ALGORITHMS: Final = ("RS256", "ES256", "EdDSA")
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def generate_private_key(algorithm: str) -> PrivateKey:
    if algorithm == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"unsupported signing algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


def public_jwk(private_key: PrivateKey, kid: str, algorithm: str) -> dict[str, Any]:
    """The public half as a JWK (RFC 7517), with ``kid``, ``alg`` and ``use``."""
    public = private_key.public_key()
    jwk: dict[str, Any]
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def private_pem(private_key: PrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private_pem: str
    public_jwk: dict[str, Any]
    created_at: int
    activates_at: int
    retires_at: int | None

    def verifies_at(self, now: int) -> bool:
        return self.retires_at is None or now < self.retires_at

    def signs_at(self, now: int) -> bool:
        return self.activates_at <= now and self.verifies_at(now)


@dataclass(frozen=True)
class KeySet:
    """A snapshot of the signing keys, newest activation first. Pure: every answer depends on ``now``."""

    keys: tuple[SigningKey, ...]

    def signer(self, now: int) -> SigningKey | None:
        """The key that signs now: the most recently activated one that is active and not retired."""
        active = [key for key in self.keys if key.signs_at(now)]
        return max(active, key=lambda key: (key.activates_at, key.created_at, key.kid), default=None)

    def verifier(self, kid: str, now: int) -> SigningKey | None:
        return next((key for key in self.keys if key.kid == kid and key.verifies_at(now)), None)

    def jwks(self, now: int) -> dict[str, Any]:
        """Every key that may still verify a token: the JWKS document (RFC 7517 §5)."""
        return {"keys": [key.public_jwk for key in self.keys if key.verifies_at(now)]}


async def load_keys(store: Store) -> KeySet:
    async with store.read() as connection:
        rows = (await connection.execute(select(signing_keys))).all()
    return KeySet(
        tuple(
            SigningKey(
                kid=row.kid,
                algorithm=row.algorithm,
                private_pem=store.keyring.open(row.private_key, signing_key_context(row.kid)),
                public_jwk=row.public_jwk,
                created_at=row.created_at,
                activates_at=row.activates_at,
                retires_at=row.retires_at,
            )
            for row in rows
        )
    )


async def add_key(store: Store, algorithm: str, activates_at: int) -> SigningKey:
    private_key = generate_private_key(algorithm)
    kid = secrets.token_urlsafe(12)
    key = SigningKey(
        kid=kid,
        algorithm=algorithm,
        private_pem=private_pem(private_key),
        public_jwk=public_jwk(private_key, kid, algorithm),
        created_at=store.clock(),
        activates_at=activates_at,
        retires_at=None,
    )
    async with store.transaction() as connection:
        await connection.execute(
            insert(signing_keys).values(
                kid=kid,
                algorithm=algorithm,
                private_key=store.keyring.seal(key.private_pem, signing_key_context(kid)),
                public_jwk=key.public_jwk,
                created_at=key.created_at,
                activates_at=activates_at,
                retires_at=None,
            )
        )
    return key


async def ensure_signing_key(store: Store, algorithm: str) -> None:
    """On start: make a key that signs at once when none can sign now."""
    if (await load_keys(store)).signer(store.clock()) is None:
        await add_key(store, algorithm, activates_at=store.clock())


async def replace_unopenable_keys(store: Store, algorithm: str) -> int:
    """After a master key was lost: delete the signing keys no configured master key opens, and make a key that
    signs at once if none is left. Returns how many were deleted; tokens they signed no longer verify."""
    async with store.transaction() as connection:
        rows = (await connection.execute(select(signing_keys.c.kid, signing_keys.c.private_key))).all()
        lost = [row.kid for row in rows if key_id_of(row.private_key) not in store.keyring.key_ids]
        if lost:
            await connection.execute(delete(signing_keys).where(signing_keys.c.kid.in_(lost)))
    await ensure_signing_key(store, algorithm)
    return len(lost)


async def rotate(store: Store, algorithm: str, activate_in_ms: int, longest_token_ms: int) -> SigningKey:
    """Add a key that verifies now and signs after ``activate_in_ms``; retire the others once their tokens expire."""
    new_key = await add_key(store, algorithm, activates_at=store.clock() + activate_in_ms)
    retire_at = new_key.activates_at + longest_token_ms
    async with store.transaction() as connection:
        await connection.execute(delete(signing_keys).where(signing_keys.c.retires_at <= store.clock()))
        await connection.execute(
            update(signing_keys)
            .where(signing_keys.c.kid != new_key.kid)
            .where((signing_keys.c.retires_at.is_(None)) | (signing_keys.c.retires_at > retire_at))
            .values(retires_at=retire_at)
        )
    return new_key


class SigningKeyNotFound(LookupError):  # noqa: N818 - reads as a sentence: "except SigningKeyNotFound"
    """No signing key has this kid (never made, already revoked, or retired and removed)."""


async def revoke(store: Store, kid: str, algorithm: str) -> SigningKey | None:
    """Remove the key ``kid`` at once: it leaves the JWKS and what it signed stops verifying. If it was the key that
    signs now, a new key takes over at once (``algorithm``), returned; else None."""
    keys = await load_keys(store)
    now = store.clock()
    if not any(key.kid == kid for key in keys.keys):
        raise SigningKeyNotFound(kid)
    signer = keys.signer(now)
    async with store.transaction() as connection:
        await connection.execute(delete(signing_keys).where(signing_keys.c.kid == kid))
    if signer is None or signer.kid != kid:
        return None
    remaining = KeySet(tuple(key for key in keys.keys if key.kid != kid))
    if remaining.signer(now) is not None:
        return None
    return await add_key(store, algorithm, activates_at=now)
