"""The sender on the wire: per-host slots are waited for outside the request's timeout."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from appinstall.webhooks.sender import EXCERPT_BYTES, HostSlots, Sender
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio


async def test_host_slots_admit_at_most_the_limit_at_once() -> None:
    slots = HostSlots(2)
    running = peak = 0

    async def use() -> None:
        nonlocal running, peak
        async with slots.hold("example.com:443"):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(use() for _ in range(10)))
    assert peak == 2


async def test_host_slots_forget_a_host_with_no_request_left() -> None:
    slots = HostSlots(2)
    async with slots.hold("a:443"), slots.hold("b:443"):
        assert len(slots) == 2
    assert len(slots) == 0


async def test_a_request_cancelled_while_waiting_for_a_slot_leaves_no_trace() -> None:
    slots = HostSlots(1)
    async with slots.hold("a:443"):
        waiting = asyncio.create_task(slots.hold("a:443").__aenter__())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
    assert len(slots) == 0
    async with slots.hold("a:443"):  # and the host's one slot is free again
        assert len(slots) == 1


async def test_requests_waiting_for_a_busy_host_do_not_time_out(tls_files: tuple[Path, Path, Path]) -> None:
    ca, cert, key = tls_files
    receiver = Receiver(cert, key, delay=0.4)
    await receiver.start()
    tls = ssl.create_default_context(cafile=str(ca))
    sender = Sender(aiohttp.TCPConnector(ssl=tls, limit=0), total_timeout=1.0, per_host=1)
    try:
        results = await asyncio.gather(*(sender.send(receiver.url(), {}, b"{}") for _ in range(4)))
    finally:
        await sender.close()
        await receiver.stop()
    # Four requests of 0.4 s, one at a time, take 1.6 s: longer than the 1 s timeout, yet none timed out.
    assert [result.status_code for result in results] == [200, 200, 200, 200]
    assert all(result.latency_ms < 1000 for result in results)


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
