"""ASGI middleware: the console's security headers on every answer under ``/console`` (pages, redirects, errors,
static files), set in one place so no route can forget them."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appinstall.console.pages import PREFIX
from appinstall.console.security import PAGE_HEADERS

_STATIC = PREFIX + "/static/"
_STATIC_CACHE = "public, max-age=86400, immutable"  # their URLs carry the version (``pages.static_url``)


class ConsoleHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in PAGE_HEADERS.items():
                    headers[name] = value
                if path.startswith(_STATIC):
                    headers["Cache-Control"] = _STATIC_CACHE
            await send(message)

        await self.app(scope, receive, with_headers)
