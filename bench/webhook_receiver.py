"""The benchmark's webhook receiver: answers 200 at once and remembers when each webhook-id first arrived.

Run as its own process (``python bench/webhook_receiver.py PORT``) so that its CPU is not the measuring process's.
``GET /stats`` returns ``{"count": …, "first": {webhook_id: unix_time}}``, ``GET /count`` just ``{"count": …}`` (cheap
enough to poll); ``POST /reset`` forgets everything.
"""

from __future__ import annotations

import sys
import time

import uvloop
from aiohttp import web

arrivals: dict[str, float] = {}
requests = 0


async def receive(request: web.Request) -> web.Response:
    global requests
    await request.read()
    requests += 1
    webhook_id = request.headers.get("webhook-id")
    if webhook_id is not None and webhook_id not in arrivals:
        arrivals[webhook_id] = time.time()
    return web.Response(text="ok")


async def stats(_: web.Request) -> web.Response:
    return web.json_response({"count": len(arrivals), "requests": requests, "first": arrivals})


async def count(_: web.Request) -> web.Response:
    return web.json_response({"count": len(arrivals)})


async def reset(_: web.Request) -> web.Response:
    global requests
    arrivals.clear()
    requests = 0
    return web.Response(text="reset")


def main() -> None:
    app = web.Application()
    app.router.add_get("/stats", stats)
    app.router.add_get("/count", count)
    app.router.add_post("/reset", reset)
    app.router.add_post("/{tail:.*}", receive)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, loop=uvloop.new_event_loop())


if __name__ == "__main__":
    main()
