"""The routers' gates only ever shorten the way to the answer FastAPI's own matching gives."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from starlette.routing import Match

import appinstall.app
from appinstall.app import create_app
from appinstall.http.route_gates import gate_included_routers
from appinstall.settings import Settings

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Paths no route has, or has only in part, and paths one slash away from a route's.
ODD_PATHS = (
    "/",
    "/nope",
    "/api",
    "/api/account/a1",
    "/api/account/a1/nothing",
    "/api/account/a1/notifications/",
    "/api/account/a1/notifications:batch/x",
    "/api/accounts/",
    "/healthz/",
    "/console/",
    "/console/static/x.css",
    "/docs/assets/x.js",
    "/.well-known/",
)


def _scope(method: str, path: str) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _first_match(app: FastAPI, method: str, path: str) -> tuple[int | None, Match]:
    """Which of the application's routes (or included routers) takes the request, as its router decides."""
    partial = None
    for index, route in enumerate(app.router.routes):
        match, _ = route.matches(_scope(method, path))
        if match == Match.FULL:
            return index, match
        if match == Match.PARTIAL and partial is None:
            partial = index
    return partial, Match.PARTIAL if partial is not None else Match.NONE


def _every_route_path(app: FastAPI) -> list[str]:
    """A path each route of the application takes, its parameters filled in."""
    formats: list[str] = []
    for route in app.router.routes:
        if hasattr(route, "effective_route_contexts"):
            formats += [context.path_format for context in route.effective_route_contexts()]
        else:
            formats.append(route.path)  # type: ignore[attr-defined]
    return [re.sub(r"\{[^}:]+:path\}", "a/b", re.sub(r"\{[^}:]+\}", "x1", path)) for path in formats]


@pytest.fixture
def gated(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def ungated(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    monkeypatch.setattr(appinstall.app, "gate_included_routers", lambda app: 0)
    return create_app(settings)


def test_every_router_the_application_includes_has_a_gate(gated: FastAPI) -> None:
    included = [route for route in gated.router.routes if hasattr(route, "original_router")]
    assert included
    assert gate_included_routers(gated) == 0  # each had one already: none is given a second


def test_every_request_goes_where_it_would_go_without_the_gates(gated: FastAPI, ungated: FastAPI) -> None:
    paths = [*_every_route_path(gated), *ODD_PATHS]
    assert len(paths) > 80
    for path in paths:
        for method in METHODS:
            assert _first_match(gated, method, path) == _first_match(ungated, method, path), (method, path)


def _tiny_app(prefix: str = "") -> tuple[FastAPI, APIRouter]:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing": thing_id}

    app = FastAPI()
    app.include_router(router, prefix=prefix)
    return app, router


async def _get(app: FastAPI, path: str, root_path: str = "") -> httpx.Response:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path)


@pytest.mark.anyio
async def test_a_route_added_after_the_gate_is_reached_all_the_same() -> None:
    app, router = _tiny_app()
    assert gate_included_routers(app) == 1

    @router.get("/later")
    async def later() -> dict[str, str]:
        return {"later": "yes"}

    assert (await _get(app, "/later")).json() == {"later": "yes"}
    assert (await _get(app, "/things/t1")).json() == {"thing": "t1"}
    assert (await _get(app, "/other")).status_code == 404


@pytest.mark.anyio
async def test_a_router_included_under_a_prefix_is_left_to_fastapi() -> None:
    app, _ = _tiny_app(prefix="/v1")
    assert gate_included_routers(app) == 0
    assert (await _get(app, "/v1/things/t1")).json() == {"thing": "t1"}


@pytest.mark.anyio
async def test_a_request_under_a_root_path_is_left_to_fastapi() -> None:
    app, _ = _tiny_app()
    gate_included_routers(app)
    assert (await _get(app, "/base/things/t1", root_path="/base")).json() == {"thing": "t1"}
