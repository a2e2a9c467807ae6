"""Issuing and verifying AppJWTs and ConsumerJWSs.

One ``TokenService`` per process. It keeps a snapshot of the signing keys and reloads it every
``KEY_REFRESH_MS`` (so a rotation made by another process is seen within that time) and, at most once per
``UNKNOWN_KID_BACKOFF_MS``, when a token names a key it does not know yet.

A connector sends the same AppJWT and ConsumerJWS with every Send API request, and checking a signature (RS256:
about 0.15 ms) was the largest part of checking a token. So a token whose signature verified is remembered (its
claims, by the SHA-256 of the token and the audience it was checked for) until it expires. Only the signature
check is skipped: every use still asks the key snapshot whether the token's key verifies now (a revoked key is
gone from it, a rotated one retires on time) and checks the expiry, the account and the installation as before,
so a remembered token is refused exactly when a fresh check would refuse it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Final

import jwt
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from appinstall.errors import NotFound
from appinstall.http.client_address import parse_networks
from appinstall.registry import clients
from appinstall.registry import service as registry
from appinstall.registry.models import Installation
from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.tokens import errors, ratelimit
from appinstall.tokens.errors import OAuthError, PlatformError, invalid_client
from appinstall.tokens.keys import KeySet, SigningKey, ensure_signing_key, load_keys
from appinstall.tokens.ratelimit import COUNTS, FailureLimiter, Limits
from appinstall.tokens.verified import Verified, VerifiedTokens

log = logging.getLogger("appinstall.tokens")

KEY_REFRESH_MS: Final = 30_000
TRIPS_REMEMBERED: Final = 10_000  # pairs logged per window: a flood from many addresses logs this many, not more
UNKNOWN_KID_BACKOFF_MS: Final = 5_000
ENABLED_CACHE_MS: Final = 5_000
CLOCK_SKEW_SECONDS: Final = 30
VERIFIED_REMEMBERED: Final = 10_000  # tokens whose signature verified, kept until they expire (oldest out first)

# Client authentication's statements, built once: the client with its secrets and the rate limit's counts, and
# the counts alone for when there is no client to read.
_AUTHENTICATION = clients.client_query(*COUNTS)
_COUNTS_ONLY = select(*COUNTS)


@dataclass(frozen=True)
class AppIdentity:
    """What a verified AppJWT says: which installation of which account, with which scope."""

    account_id: str
    installation_id: str
    scope: str
    claims: dict[str, Any]


@dataclass(frozen=True)
class ConsumerIdentity:
    """What a verified ConsumerJWS says: which consumer of which account."""

    account_id: str
    ext_consumer_id: str
    lp_consumer_id: str


def platform_account(account_id: str) -> str:
    """The platform writes account ids in tokens with an ``le`` prefix (``aud``, ``account_id``)."""
    return f"le{account_id}"


def lp_consumer_id(account_id: str, ext_consumer_id: str) -> str:
    """A stable 64-hex-character consumer id for one external id in one account."""
    return hashlib.sha256(f"appinstall consumer\0{account_id}\0{ext_consumer_id}".encode()).hexdigest()


def granted_scope(registered: str, requested: str | None) -> str:
    """The scope to grant: the registered one, or the requested subset of it (RFC 6749 §3.3)."""
    if requested is None or not requested.strip():
        return registered
    allowed = set(registered.split(" "))
    wanted = [token for token in requested.split(" ") if token]
    refused = [token for token in wanted if token not in allowed]
    if refused:
        raise OAuthError("invalid_scope", f"not registered for this client: {' '.join(refused)}")
    return " ".join(dict.fromkeys(wanted))


class TokenService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._keys = KeySet(())
        self._loaded_at = -KEY_REFRESH_MS
        self._last_unknown_kid_reload = -UNKNOWN_KID_BACKOFF_MS
        self._private_keys: dict[str, Any] = {}
        self._public_keys: dict[str, Any] = {}
        self._enabled: dict[str, tuple[bool, int]] = {}
        self._verified = VerifiedTokens(VERIFIED_REMEMBERED)
        self._tripped_window = -1  # the rate-limit window whose refusals were logged, and the pairs refused in it
        self._tripped: set[tuple[str | None, str | None]] = set()
        self.trusted_proxies = parse_networks(settings.trusted_proxies)
        self.limiter = FailureLimiter(
            store,
            Limits(
                settings.auth_failures_per_client,
                settings.auth_failures_per_address,
                settings.auth_failure_window_seconds,
            ),
        )

    async def start(self) -> None:
        await ensure_signing_key(self.store, self.settings.signing_algorithm)
        await self._reload()

    async def _reload(self) -> None:
        self._keys = await load_keys(self.store)
        self._loaded_at = self.store.clock()

    async def reload_keys(self) -> KeySet:
        """Read the signing keys again now (after this process rotated or revoked one): its JWKS and verification
        reflect the change at once; other processes within ``KEY_REFRESH_MS``."""
        await self._reload()
        return self._keys

    async def keys(self) -> KeySet:
        if self.store.clock() - self._loaded_at >= KEY_REFRESH_MS:
            await self._reload()
        return self._keys

    @property
    def ttl_seconds(self) -> int:
        return self.settings.token_ttl_seconds

    # --- Client authentication -------------------------------------------------------------------------------

    async def authenticate_client(
        self,
        client_id: str | None,
        client_secret: str | None,
        *,
        account_id: str | None,
        basic: bool,
        address: str | None = None,
    ) -> Installation:
        """The installation these credentials belong to, or ``invalid_client``. One answer for every failure
        that would otherwise reveal whether a client exists in an account.

        Failed authentication is rate limited per ``address`` and per client at that address (never per client
        alone: see ``tokens.ratelimit``). The attempt is admitted, taking its place, before the secret is compared,
        or refused with a 429; every ``invalid_client`` is counted, or answered 429 if the count went past a limit.
        The counts and the client's row and secrets are read in one statement.
        """
        limiter = self.limiter
        attempt = limiter.attempt(client_id, address)
        buckets = list(attempt.buckets)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ratelimit.WAIT_FOR_ROOM_SECONDS
        for _ in range(ratelimit.MAX_LOOKS):
            now = self.store.clock()
            with limiter.reservations.looking(buckets) as ticket:
                record, counted = await self._client_and_counts(client_id, client_secret, address, now)
                if attempt.admit(counted, ticket):
                    try:
                        return self._authenticated(record, client_secret, account_id=account_id, basic=basic)
                    except OAuthError:
                        if not await limiter.record_failure(attempt):
                            raise self._refusal(client_id, address, self.store.clock()) from None
                        raise
            if not attempt.within(counted):
                raise self._refusal(client_id, address, now)
            # Room in the store, taken by attempts in flight: wait for one of them to end, and look again.
            left = deadline - loop.time()
            if left <= 0:
                break
            await limiter.reservations.released(buckets, left)
        raise limiter.busy()

    def _refusal(self, client_id: str | None, address: str | None, now: int) -> OAuthError:
        """The 429, and the operator's log line the first time this process refuses the pair in a window."""
        window = ratelimit.window_start(now, self.settings.auth_failure_window_seconds * 1000)
        if self._tripped_window != window:
            self._tripped_window, self._tripped = window, set()
        if (client_id, address) not in self._tripped and len(self._tripped) < TRIPS_REMEMBERED:
            self._tripped.add((client_id, address))
            log.warning(
                "client authentication limited: too many failures",
                extra={"client_id": client_id, "address": address},
            )
        return self.limiter.refusal(now)

    async def _client_and_counts(
        self, client_id: str | None, client_secret: str | None, address: str | None, now: int
    ) -> tuple[clients.ClientRecord | None, dict[str, int]]:
        """The client's row and secrets (when there are credentials) and the failures counted against this
        attempt, in one statement when there is a client to read."""
        parameters = self.limiter.count_parameters(client_id, address, now)
        record = None
        counts: tuple[Any, ...] = (0, 0)
        async with self.store.reading() as reading:
            if client_id and client_secret:
                rows = await reading.fetch_all(_AUTHENTICATION, parameters | {"client_id": client_id})
                record = clients.client_record(client_id, rows, extra=len(COUNTS))
            if record is not None and record.extra is not None:
                counts = record.extra
            elif address:
                # No row carried the counts (no credentials, or no such client): read them on their own.
                counts = tuple((await reading.fetch_all(_COUNTS_ONLY, parameters))[0])
        return record, self.limiter.counted(client_id, address, *counts)

    def _authenticated(
        self, record: clients.ClientRecord | None, client_secret: str | None, *, account_id: str | None, basic: bool
    ) -> Installation:
        if record is None or not client_secret:
            raise invalid_client("client_id and client_secret are required", basic=basic)
        installation = clients.match_client_secret(self.store, record, client_secret)
        if installation is None or (account_id is not None and installation.account_id != account_id):
            raise invalid_client("client authentication failed", basic=basic)
        if installation.deleted:
            raise invalid_client("the client was deleted", basic=basic)
        if not installation.enabled:
            raise invalid_client("the client is disabled", basic=basic)
        return installation

    # --- Signing ---------------------------------------------------------------------------------------------

    def _private_key(self, key: SigningKey) -> Any:
        loaded = self._private_keys.get(key.kid)
        if loaded is None:
            loaded = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
            self._private_keys[key.kid] = loaded
        return loaded

    async def _sign(self, claims: dict[str, Any]) -> str:
        key = (await self.keys()).signer(self.store.clock())
        if key is None:  # every key retired (clock jump, manual edits): make one rather than fail
            await self.start()
            key = self._keys.signer(self.store.clock())
            assert key is not None
        return jwt.encode(claims, self._private_key(key), algorithm=key.algorithm, headers={"kid": key.kid})

    def _base_claims(self) -> dict[str, Any]:
        now = self.store.clock() // 1000
        return {
            "iss": self.settings.token_issuer,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "jti": secrets.token_urlsafe(16),
        }

    async def issue_app_jwt(self, installation: Installation, scope: str) -> str:
        claims = self._base_claims() | {
            "aud": platform_account(installation.account_id),
            "azp": installation.id,
            "sub": installation.client_id,
            "scope": scope,
            "account_id": installation.account_id,
        }
        return await self._sign(claims)

    async def issue_consumer_jws(self, account_id: str, ext_consumer_id: str) -> str:
        claims = self._base_claims() | {
            "account_id": platform_account(account_id),
            "ext_consumer_id": ext_consumer_id,
            "lp_consumer_id": lp_consumer_id(account_id, ext_consumer_id),
        }
        return await self._sign(claims)

    # --- Verification ----------------------------------------------------------------------------------------

    async def _verified_claims(self, token: str, code: int, audience: str | None) -> dict[str, Any]:
        """Signature, ``kid``, algorithm, expiry and (when given) audience, or a platform 401 with ``code``."""
        remembered = self._verified.get(token, audience, self.store.clock() // 1000, CLOCK_SKEW_SECONDS)
        if remembered is not None:
            key = await self._verifier(remembered.kid)
            if key is not None and key.algorithm == remembered.algorithm:
                return self._in_time(remembered.claims, code)
            self._verified.forget(token, audience)  # the key was revoked or retired: check afresh, to refuse
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise errors.unauthorized(code, "the token is not a JWS") from None
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise errors.unauthorized(code, "the token names no signing key (kid)")
        key = await self._verifier(kid)
        if key is None:
            raise errors.unauthorized(code, "the token's signing key is unknown or retired")
        if header.get("alg") != key.algorithm:
            raise errors.unauthorized(code, "the token's algorithm does not match its key")
        public = self._public_keys.get(kid)
        if public is None:
            public = self._public_keys[kid] = jwt.PyJWK(key.public_jwk).key
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                public,
                algorithms=[key.algorithm],
                audience=audience,
                issuer=self.settings.token_issuer,
                options={
                    "require": ["exp", "iat", "iss"],
                    "verify_aud": audience is not None,
                    # Time is checked below against the store's clock, the one that issued the token.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as error:
            raise errors.unauthorized(code, f"the token is not valid: {error}") from None
        self._in_time(claims, code)
        self._verified.remember(token, audience, Verified(kid, key.algorithm, claims))
        return claims

    def _in_time(self, claims: dict[str, Any], code: int) -> dict[str, Any]:
        """The claims, if the token is neither expired nor issued in the future by the store's clock."""
        now = self.store.clock() // 1000
        expires, issued = claims.get("exp"), claims.get("iat")
        if not isinstance(expires, int) or not isinstance(issued, int):
            raise errors.unauthorized(code, "the token's exp and iat must be integers")
        if now >= expires + CLOCK_SKEW_SECONDS:
            raise errors.unauthorized(code, "the token has expired")
        if issued > now + CLOCK_SKEW_SECONDS:
            raise errors.unauthorized(code, "the token was issued in the future")
        return claims

    async def _verifier(self, kid: str) -> SigningKey | None:
        now = self.store.clock()
        key = (await self.keys()).verifier(kid, now)
        if key is None and now - self._last_unknown_kid_reload >= UNKNOWN_KID_BACKOFF_MS:
            self._last_unknown_kid_reload = now
            await self._reload()
            key = self._keys.verifier(kid, now)
        return key

    async def verify_app_jwt(self, token: str, account_id: str) -> AppIdentity:
        claims = await self._verified_claims(token, errors.INVALID_APP_JWT, platform_account(account_id))
        installation_id = claims.get("azp")
        if not isinstance(installation_id, str) or claims.get("account_id") != account_id:
            raise errors.unauthorized(errors.INVALID_APP_JWT, "the token is not an AppJWT of this account")
        if not await self._still_enabled(account_id, installation_id):
            raise errors.unauthorized(errors.INVALID_APP_JWT, "the app is disabled or deleted")
        return AppIdentity(account_id, installation_id, str(claims.get("scope", "")), claims)

    async def verify_consumer_jws(self, token: str, account_id: str) -> ConsumerIdentity:
        claims = await self._verified_claims(token, errors.INVALID_CONSUMER_JWS, None)
        ext_id, lp_id = claims.get("ext_consumer_id"), claims.get("lp_consumer_id")
        if (
            claims.get("account_id") != platform_account(account_id)
            or not isinstance(ext_id, str)
            or not isinstance(lp_id, str)
            or not hmac.compare_digest(lp_id, lp_consumer_id(account_id, ext_id))
        ):
            raise errors.unauthorized(errors.INVALID_CONSUMER_JWS, "the token is not a ConsumerJWS of this account")
        return ConsumerIdentity(account_id, ext_id, lp_id)

    async def _still_enabled(self, account_id: str, installation_id: str) -> bool:
        now = self.store.clock()
        cached = self._enabled.get(installation_id)
        if cached is not None and now - cached[1] < ENABLED_CACHE_MS:
            return cached[0]
        try:
            installation = await registry.get(self.store, account_id, installation_id, with_secret=False)
        except NotFound:  # gone, or not of this account
            enabled = False
        else:
            enabled = installation.enabled and not installation.deleted
        self._enabled[installation_id] = (enabled, now)
        return enabled


__all__ = ["AppIdentity", "ConsumerIdentity", "PlatformError", "TokenService"]
