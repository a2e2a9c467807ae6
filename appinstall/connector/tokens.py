"""A connector's side of authentication: get an AppJWT, keep it, renew it before it expires.

``TokenClient`` (blocking) and ``AsyncTokenClient`` call the platform's Sentinel path with the installation's
client credentials, cache the token, and fetch a new one ``refresh_margin`` seconds before the old one expires,
so a connector never sends an expired token and never asks more often than it must. ``consumer_token`` asks the
IDP path for a ConsumerJWS on behalf of one consumer: on this server's host, or on ``idp_url`` where the IDP is a
host of its own (as on the platform, whose domain discovery names it ``idp``).

    tokens = TokenClient("https://appinstall.example", "123", client_id, client_secret)
    httpx.post(send_url, headers={"Authorization": tokens.app_jwt()}, ...)
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx


class TokenError(Exception):
    """The server refused: ``error`` is the OAuth error code or the platform's error code."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description} (HTTP {status})")
        self.status = status
        self.error = error
        self.description = description


@dataclass
class _Cached:
    token: str
    expires_at: float  # on the client's monotonic clock


def _token_request(account_id: str, client_id: str, client_secret: str) -> tuple[str, dict[str, str]]:
    path = f"/sentinel/api/account/{quote(account_id, safe='')}/app/token?v=1.0&grant_type=client_credentials"
    return path, {"client_id": client_id, "client_secret": client_secret}


def _read_token(response: httpx.Response, now: float) -> _Cached:
    body = _json(response)
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        raise TokenError(response.status_code, str(body.get("error", "error")), str(body.get("error_description", "")))
    return _Cached(body["access_token"], now + float(body.get("expires_in", 3600)))


def _read_consumer(response: httpx.Response) -> str:
    body = _json(response)
    if response.status_code != 201 or not isinstance(body.get("token"), str):
        details = body.get("body", {}) if isinstance(body.get("body"), dict) else {}
        raise TokenError(response.status_code, str(details.get("errorCode", "error")), str(details.get("details", "")))
    token: str = body["token"]
    return token


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"error": "invalid_response", "error_description": response.text[:200]}
    return body if isinstance(body, dict) else {}


class _TokenCache:
    """What both clients share: the request to make, the cached token, and when to renew it."""

    def __init__(
        self,
        account_id: str,
        client_id: str,
        client_secret: str,
        refresh_margin: float,
        clock: Callable[[], float],
        idp_url: str | None,
    ) -> None:
        self.account_id = account_id
        self._idp_url = idp_url.rstrip("/") if idp_url else ""
        self._request = _token_request(account_id, client_id, client_secret)
        self._margin = refresh_margin
        self._clock = clock
        self._cached: _Cached | None = None

    def _fresh(self) -> str | None:
        """The cached token while it is not yet within ``refresh_margin`` of expiring."""
        if self._cached is None or self._clock() >= self._cached.expires_at - self._margin:
            return None
        return self._cached.token

    @property
    def _consumer_url(self) -> str:
        return f"{self._idp_url}/api/account/{quote(self.account_id, safe='')}/consumer?v=1.0"


class TokenClient(_TokenCache):
    """AppJWTs for one installation, cached and renewed; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin: float = 60.0,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.monotonic,
        idp_url: str | None = None,
    ) -> None:
        super().__init__(account_id, client_id, client_secret, refresh_margin, clock, idp_url)
        self._http = http or httpx.Client(base_url=base_url, timeout=10.0)
        self._lock = threading.Lock()

    def app_jwt(self) -> str:
        with self._lock:
            token = self._fresh()
            if token is None:
                path, form = self._request
                self._cached = _read_token(self._http.post(path, data=form), self._clock())
                token = self._cached.token
            return token

    def consumer_token(self, ext_consumer_id: str) -> str:
        """A ConsumerJWS for one of the connector's consumers."""
        response = self._http.post(
            self._consumer_url, json={"ext_consumer_id": ext_consumer_id}, headers={"Authorization": self.app_jwt()}
        )
        return _read_consumer(response)

    def close(self) -> None:
        self._http.close()


class AsyncTokenClient(_TokenCache):
    """The same, for asyncio: concurrent callers share one renewal."""

    def __init__(
        self,
        base_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        *,
        refresh_margin: float = 60.0,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        idp_url: str | None = None,
    ) -> None:
        super().__init__(account_id, client_id, client_secret, refresh_margin, clock, idp_url)
        self._http = http or httpx.AsyncClient(base_url=base_url, timeout=10.0)
        self._lock = asyncio.Lock()

    async def app_jwt(self) -> str:
        async with self._lock:
            token = self._fresh()
            if token is None:
                path, form = self._request
                self._cached = _read_token(await self._http.post(path, data=form), self._clock())
                token = self._cached.token
            return token

    async def consumer_token(self, ext_consumer_id: str) -> str:
        response = await self._http.post(
            self._consumer_url,
            json={"ext_consumer_id": ext_consumer_id},
            headers={"Authorization": await self.app_jwt()},
        )
        return _read_consumer(response)

    async def aclose(self) -> None:
        await self._http.aclose()


__all__ = ["AsyncTokenClient", "TokenClient", "TokenError"]
