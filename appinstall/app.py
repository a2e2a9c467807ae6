"""Wiring: settings → store → services → routes, in one FastAPI application."""

from __future__ import annotations

import gc
import importlib.util
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from sqlalchemy import text

from appinstall import __version__
from appinstall.accounts.service import Authenticator
from appinstall.accounts.views import router as accounts_router
from appinstall.console import ConsoleHeaders, mount_console
from appinstall.http.deps import AppState
from appinstall.http.domain_errors import DOMAIN_EXCEPTION_HANDLERS
from appinstall.http.input_guard import InputGuard
from appinstall.http.limits import RequestLimits
from appinstall.http.openapi import openapi_document
from appinstall.http.problems import EXCEPTION_HANDLERS, problem_response
from appinstall.http.reference import serve_reference
from appinstall.http.route_gates import gate_included_routers
from appinstall.http.store_errors import STORE_EXCEPTION_HANDLERS
from appinstall.registry.views import router as registry_router
from appinstall.sandbox.agents import SandboxAgents
from appinstall.sandbox.ratelimit import SendLimiter
from appinstall.sandbox.views import router as sandbox_router
from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.store.startup_check import ConfigurationError, open_store
from appinstall.tokens.errors import TOKEN_EXCEPTION_HANDLERS
from appinstall.tokens.key_views import router as signing_keys_router
from appinstall.tokens.service import TokenService
from appinstall.tokens.views import router as tokens_router
from appinstall.webhooks.account_signature_views import router as signature_router
from appinstall.webhooks.views import BATCH_PATH_PATTERN
from appinstall.webhooks.views import router as webhooks_router
from appinstall.webhooks.worker import Worker

log = logging.getLogger("appinstall")

__all__ = ["ConfigurationError", "create_app", "fastapi_telemetry", "freeze_startup_objects", "open_store"]


YOUNG_COLLECTION_EVERY = 20_000


def freeze_startup_objects() -> None:
    """For a long-running process, once started: collect, then hide what exists now from the garbage collector.

    Modules, routes, settings and services live as long as the process, yet every full collection walked them all,
    and the webhook worker's allocations (a few objects per delivery) trigger full collections often. Frozen
    (``gc.freeze``), they are never walked again. And the youngest generation is collected every
    ``YOUNG_COLLECTION_EVERY`` allocations rather than 700: most of a delivery's objects are gone by then, so fewer
    survive to be walked again. Measured on the SQLite drain (``bench/webhooks.py``): about 15 % more deliveries
    per second for the freeze, and about 5 % less CPU per delivery for the threshold. Not for tests that build
    many apps in one process: frozen cycles are never collected.
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, oldest)


def fastapi_telemetry() -> TelemetryConfig:
    """FastAPI's own OpenTelemetry spans and metrics where they can be collected: with the OpenTelemetry SDK
    installed (``opentelemetry-instrument``, say), FastAPI's defaults. Without it no provider can be configured,
    and FastAPI would still ask, on every request, whether one is (5.7 µs, one in every 40 of a publish)."""
    if importlib.util.find_spec("opentelemetry.sdk") is not None:
        return {}
    return {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def create_app(
    settings: Settings | None = None, *, store: Store | None = None, freeze_after_startup: bool = False
) -> FastAPI:
    """The HTTP application. Pass ``store`` to share one (tests do); otherwise it opens its own at start.
    ``freeze_after_startup`` is for the process that serves it: see ``freeze_startup_objects``."""
    settings = settings or Settings()

    state = AppState()
    state.settings = settings
    state.send_limiter = SendLimiter(settings.sandbox_send_per_second, settings.sandbox_send_burst)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_store = store is None
        state.store = await open_store(settings) if store is None else store
        operator_token = settings.operator_token.get_secret_value() if settings.operator_token else None
        state.authenticator, generated = await Authenticator.start(state.store, operator_token)
        state.tokens = TokenService(state.store, settings)
        await state.tokens.start()
        state.worker = Worker(state.store, settings) if settings.worker else None
        if state.worker is not None:
            await state.worker.start()
        state.agents = SandboxAgents(state.store, settings.sandbox_agent)
        if generated:
            print(
                "appinstall: generated the operator token; it is shown only now, store it safely:\n"
                f"  APPINSTALL_OPERATOR_TOKEN={generated}",
                file=sys.stderr,
                flush=True,
            )
        if freeze_after_startup:
            freeze_startup_objects()
        try:
            yield
        finally:
            await state.agents.stop()  # first: what the agents still publish is then delivered or kept
            if state.worker is not None:
                await state.worker.stop()
            if own_store:
                await state.store.close()

    app = FastAPI(
        telemetry=fastapi_telemetry(),
        title="appinstall",
        version=__version__,
        summary="Install connector apps from App Install manifests.",
        lifespan=lifespan,
        docs_url=None,  # served from a package's files instead of a CDN: http/reference.py
        redoc_url=None,
        exception_handlers={
            **EXCEPTION_HANDLERS,
            **DOMAIN_EXCEPTION_HANDLERS,
            **TOKEN_EXCEPTION_HANDLERS,
            **STORE_EXCEPTION_HANDLERS,
        },
    )
    app.state = state  # the one typed state every route reads (``http.deps``)
    serve_reference(app)
    # Routers are asked in order (each passed over at once where its gate says the path is not its own, see
    # ``gate_included_routers`` below): the most frequent requests come first.
    app.include_router(tokens_router)
    app.include_router(signing_keys_router)
    app.include_router(sandbox_router)
    app.include_router(webhooks_router)
    app.include_router(signature_router)
    app.include_router(registry_router)
    app.include_router(accounts_router)
    app.add_middleware(ConsoleHeaders)
    app.add_middleware(InputGuard)  # inside RequestLimits: it reads bodies whole, so their size is checked first
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        form_path_prefixes=("/sentinel/", "/oauth2/", "/console/"),
        path_limits=[(BATCH_PATH_PATTERN, settings.max_batch_body_bytes)],
    )

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> JSONResponse:
        """The process can reach its store."""
        try:
            async with state.store.read() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:  # the store is down in some way: report it, do not crash
            log.warning("readiness check failed: %s", type(error).__name__)
            return problem_response(503, "not-ready", "the store is unreachable")
        return JSONResponse({"status": "ready"})

    # Last: FastAPI tries an included router's routes one by one, and the API's requests should not pay for the
    # console's (placed before /healthz, they cost the API about a third of its requests per second).
    mount_console(app)
    gate_included_routers(app)  # last: every router is included by now
    app.openapi = partial(openapi_document, app)  # type: ignore[method-assign]
    return app
