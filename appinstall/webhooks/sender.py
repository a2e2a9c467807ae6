"""One webhook request on the wire, with aiohttp: the only place that talks to receivers.

Redirects are never followed (the endpoint is the one the manifest names; following would also step around the
SSRF guard's intent), at most ``max_response_bytes`` of the answer are read, and every way a request can fail
comes back as an ``AttemptResult`` rather than an exception.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping

import aiohttp
from yarl import URL

from appinstall import __version__
from appinstall.webhooks.failures import describe
from appinstall.webhooks.models import AttemptResult
from appinstall.webhooks.ssrf import ENDPOINTS_REMEMBERED

USER_AGENT = f"appinstall-webhooks/{__version__}"
EXCERPT_BYTES = 4096
# Endpoints are few (the manifests name them) and each is sent to again and again: parsed once, remembered.
_target = functools.lru_cache(maxsize=ENDPOINTS_REMEMBERED)(URL)


@functools.lru_cache(maxsize=ENDPOINTS_REMEMBERED)
def host_key(url: str) -> str:
    """``host:port`` of an endpoint: what the per-host limit counts by. ValueError for a URL that is not one."""
    target = _target(url)
    return f"{target.host}:{target.port}"


class Sender:
    """Posts signed bodies; one per worker, sharing its connection pool across requests. It bounds nothing per
    host: the worker does, by sending each host's deliveries from at most its limit of runners."""

    def __init__(
        self,
        connector: aiohttp.BaseConnector,
        *,
        connect_timeout: float = 5.0,
        total_timeout: float = 10.0,
        max_response_bytes: int = 65_536,
    ) -> None:
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=total_timeout, sock_connect=connect_timeout),
            trust_env=False,
            auto_decompress=False,
            # A receiver's Set-Cookie must not ride along on later webhooks (to it or to anyone on its domain).
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._max_response_bytes = max_response_bytes
        self._total_timeout = total_timeout
        self._connect_timeout = connect_timeout

    async def send(self, url: str, headers: Mapping[str, str], body: bytes) -> AttemptResult:
        """POST ``body`` to ``url`` now: the timeout starts here, so a caller that bounds requests per host waits
        for its turn before calling (the worker's host runners do)."""
        started_at = time.time_ns() // 1_000_000
        clock = time.perf_counter()
        try:
            target = _target(url)
            async with self._session.post(target, data=body, headers=headers, allow_redirects=False) as response:
                length = response.content_length
                if length is not None and length <= self._max_response_bytes:
                    received = await response.read()  # small and announced: the common case, in one step
                else:
                    received = await self._read_at_most(response)
                excerpt = received[:EXCERPT_BYTES].decode("utf-8", "replace")
                return AttemptResult(
                    started_at=started_at,
                    latency_ms=round((time.perf_counter() - clock) * 1000),
                    status_code=response.status,
                    retry_after=response.headers.get("Retry-After"),
                    excerpt=excerpt,
                    error=f"redirect to {response.headers.get('Location', '?')} not followed"
                    if 300 <= response.status < 400
                    else None,
                )
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as error:
            # The short error and the library's words; neither carries the request's headers.
            failure = describe(error, timeout=self._total_timeout, connect_timeout=self._connect_timeout)
            return AttemptResult(
                started_at=started_at,
                latency_ms=round((time.perf_counter() - clock) * 1000),
                error=failure.error,
                error_detail=failure.detail,
            )

    async def _read_at_most(self, response: aiohttp.ClientResponse) -> bytes:
        """The answer's first ``max_response_bytes`` (a chunked or large answer is not read to its end)."""
        received = bytearray()
        async for chunk in response.content.iter_chunked(16_384):
            received += chunk
            if len(received) >= self._max_response_bytes:
                break
        return bytes(received)

    async def close(self) -> None:
        await self._session.close()
