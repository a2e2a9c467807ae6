"""The web console: installations, deliveries, the sandbox and keys in the browser, at ``/console``.

Server-rendered pages (Jinja2) over the same services the API uses, with a little same-origin JavaScript; signed
in with an admin key or the operator token, which becomes a server-side session (``sessions``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from appinstall.console.auth_views import router as auth_router
from appinstall.console.delivery_views import router as deliveries_router
from appinstall.console.fallback import router as fallback_router
from appinstall.console.headers import ConsoleHeaders
from appinstall.console.installation_views import router as installations_router
from appinstall.console.key_views import router as keys_router
from appinstall.console.pages import PREFIX
from appinstall.console.sandbox_views import router as sandbox_router

__all__ = ["ConsoleHeaders", "mount_console"]

STATIC_DIR = Path(__file__).parent / "static"


def mount_console(app: FastAPI) -> None:
    """Add the console's routes and static files to ``app`` (its headers middleware is added by the caller, in
    the order of the app's middleware)."""
    app.include_router(auth_router)
    app.include_router(installations_router)
    app.include_router(deliveries_router)
    app.include_router(sandbox_router)
    app.include_router(keys_router)
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.include_router(fallback_router)  # last: what nothing above matched
