"""The sender on the wire: what it reads of an answer, what it keeps of a receiver, how a bad URL fails."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp import web

from appinstall.webhooks.sender import EXCERPT_BYTES, Sender

pytestmark = pytest.mark.anyio


async def test_a_malformed_url_is_a_failed_attempt_not_an_exception() -> None:
    sender = Sender(aiohttp.TCPConnector())
    try:
        result = await sender.send("https://[bad", {}, b"{}")
    finally:
        await sender.close()
    assert result.status_code is None and result.error is not None


async def _serve(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> tuple[web.AppRunner, str]:
    application = web.Application()
    application.router.add_post("/hook", handler)
    runner = web.AppRunner(application)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hook"


async def test_a_small_answer_is_read_whole_into_the_excerpt() -> None:
    async def answer(_: web.Request) -> web.Response:
        return web.Response(text="thanks, got it")

    runner, url = await _serve(answer)
    sender = Sender(aiohttp.TCPConnector())
    try:
        result = await sender.send(url, {}, b"{}")
    finally:
        await sender.close()
        await runner.cleanup()
    assert (result.status_code, result.excerpt) == (200, "thanks, got it")


async def test_an_endless_answer_is_read_no_further_than_the_limit() -> None:
    finished = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"x" * 100_000)  # more than the 64 KiB read, then nothing more until the test ends
        await finished.wait()
        return response

    runner, url = await _serve(endless)
    sender = Sender(aiohttp.TCPConnector(), total_timeout=5.0)
    try:
        result = await sender.send(url, {}, b"{}")
    finally:
        finished.set()
        await sender.close()
        await runner.cleanup()
    assert result.status_code == 200 and result.error is None  # not a timeout: reading stopped at the limit
    assert result.latency_ms < 5000
    assert result.excerpt == "x" * EXCERPT_BYTES


async def test_a_cookie_a_receiver_sets_is_never_sent_back() -> None:
    cookies: list[str | None] = []

    async def answer(request: web.Request) -> web.Response:
        cookies.append(request.headers.get("Cookie"))
        return web.Response(text="ok", headers={"Set-Cookie": "session=abc; Path=/"})

    runner, url = await _serve(answer)
    url = url.replace("127.0.0.1", "localhost")  # a host name: a cookie jar keeps no cookie of a bare IP address
    sender = Sender(aiohttp.TCPConnector())
    try:
        first = await sender.send(url, {}, b"{}")
        second = await sender.send(url, {}, b"{}")
    finally:
        await sender.close()
        await runner.cleanup()
    assert (first.status_code, second.status_code) == (200, 200)
    assert cookies == [None, None]
