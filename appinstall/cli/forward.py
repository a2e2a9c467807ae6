"""``appinstall listen --forward-to``: pass each verified notification on to the developer's app, like a proxy.

The listener stays the platform's endpoint (it verifies and prints), and the app under development gets the very
request the platform sent: same method, same body bytes, same headers (so the app can verify the signatures
itself), minus the hop-by-hop headers that belong to one connection. The app's answer is what the platform gets,
so retries, 410 and Retry-After behave as they would with the app at the manifest's endpoint.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from yarl import URL

# RFC 9110 §7.6.1: meaningful for one connection only, never forwarded (nor any header Connection names). Host and
# Content-Length are set anew for the app's address and the body; both are the client's to write.
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "proxy-connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "host",
        "content-length",
    }
)
# What of the app's answer the platform should see besides the status: Retry-After steers its retries.
ANSWER_HEADERS: Final = ("Content-Type", "Retry-After")
# The platform waits 10 s for an answer (appinstall's worker by default too); longer is no use to anyone.
TIMEOUT_SECONDS: Final = 10.0
EXCERPT_CHARACTERS: Final = 120


def forward_target(value: str) -> URL | None:
    """The app's URL, or None when ``value`` is not an absolute http(s) URL with a host."""
    try:
        url = URL(value)
    except ValueError:
        return None
    return url if url.scheme in ("http", "https") and url.host else None


def forwarded_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's headers without the hop-by-hop ones (those listed and those ``Connection`` names)."""
    named = {
        token.strip().lower()
        for name, value in headers.items()
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return {name: value for name, value in headers.items() if name.lower() not in HOP_BY_HOP | named}


@dataclass(frozen=True)
class Answer:
    """The app's answer, to pass back to the platform; ``error`` (status 502) when there was none."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    latency_ms: int = 0
    error: str | None = None


def describe_answer(answer: Answer, target: URL) -> str:
    """One line on what the app answered (or why it could not): the status, the time taken, the body's start."""
    if answer.error is not None:
        return f"← 502 {answer.error}"
    text = answer.body.decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    if len(text) > EXCERPT_CHARACTERS:
        text = text[: EXCERPT_CHARACTERS - 1] + "…"
    line = f"← {answer.status} from {target} in {answer.latency_ms} ms"
    return f"{line}: {text}" if text else line


def _reason(error: BaseException, target: URL) -> str:
    """Why the app gave no answer, in a few words (never the request's headers: they carry signatures)."""
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return f"{target} did not answer within {TIMEOUT_SECONDS:g} s"
    if isinstance(error, aiohttp.ClientConnectorError):  # asyncio's own strerror ("Connect call failed (…)") hides why
        number = error.os_error.errno
        cause = os.strerror(number) if number else str(error.os_error)
        return f"cannot reach {target}: {cause.lower()}"
    if isinstance(error, aiohttp.ServerDisconnectedError | ConnectionResetError):
        return f"{target} closed the connection without an answer"
    return f"cannot reach {target}: {type(error).__name__}: {error}"


class Forwarder:
    """Sends requests on to one URL with a session of its own, opened on first use (inside the running loop)."""

    def __init__(self, target: URL, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.target = target
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def send(self, method: str, body: bytes, headers: Mapping[str, str]) -> Answer:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                trust_env=False,  # a proxy from the environment must not carry localhost traffic away
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),  # only what the platform sent
            )
        clock = time.perf_counter()
        try:
            async with self._session.request(
                method, self.target, data=body, headers=forwarded_headers(headers), allow_redirects=False
            ) as response:
                received = await response.read()
                kept = {name: response.headers[name] for name in ANSWER_HEADERS if name in response.headers}
                latency = round((time.perf_counter() - clock) * 1000)
                return Answer(response.status, received, kept, latency)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            latency = round((time.perf_counter() - clock) * 1000)
            return Answer(502, latency_ms=latency, error=_reason(error, self.target))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
