"""A PlainRoute calls its endpoint with the path parameters and the request, and refuses endpoints that ask more."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from appinstall.http.plain_route import PlainRoute, PlainRouteError

pytestmark = pytest.mark.anyio


class RefusedError(Exception):
    pass


def _app() -> FastAPI:
    router = APIRouter(route_class=PlainRoute)

    @router.post("/things/{owner}/{name}")
    async def thing(owner: str, name: str, request: Request) -> JSONResponse:
        body = await request.body()
        if body == b"refuse":
            raise RefusedError
        return JSONResponse({"owner": owner, "name": name, "body": body.decode(), "query": request.url.query})

    app = FastAPI()

    async def on_refused(_: Request, __: Exception) -> PlainTextResponse:
        return PlainTextResponse("refused by the handler", status_code=403)

    app.add_exception_handler(RefusedError, on_refused)
    app.include_router(router)
    return app


async def _post(app: FastAPI, path: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        return await client.post(path, content=body)


async def test_the_endpoint_gets_its_path_parameters_as_strings_and_the_request() -> None:
    response = await _post(_app(), "/things/ann%20lee/42?v=1.0", b"hello")
    assert response.status_code == 200
    assert response.json() == {"owner": "ann lee", "name": "42", "body": "hello", "query": "v=1.0"}


async def test_an_exception_of_the_endpoint_reaches_the_apps_handlers() -> None:
    response = await _post(_app(), "/things/ann/42", b"refuse")
    assert (response.status_code, response.text) == (403, "refused by the handler")


async def test_the_route_is_documented_from_the_endpoints_signature() -> None:
    operation = _app().openapi()["paths"]["/things/{owner}/{name}"]["post"]
    assert [parameter["name"] for parameter in operation["parameters"]] == ["owner", "name"]


def _route_for(endpoint: object) -> None:
    APIRouter(route_class=PlainRoute).post("/things/{owner}")(endpoint)  # type: ignore[arg-type]


def test_an_endpoint_with_a_query_parameter_is_refused() -> None:
    async def endpoint(owner: str, request: Request, limit: int = 10) -> JSONResponse:
        raise AssertionError

    with pytest.raises(PlainRouteError, match="query parameter 'limit'"):
        _route_for(endpoint)


async def _setting() -> str:
    return "value"


def test_an_endpoint_with_a_dependency_is_refused() -> None:
    # (Module level: with postponed annotations, FastAPI resolves ``Depends(...)`` in the module's globals.)
    async def endpoint(owner: str, request: Request, value: Annotated[str, Depends(_setting)]) -> JSONResponse:
        raise AssertionError

    with pytest.raises(PlainRouteError, match="dependency"):
        _route_for(endpoint)


def test_an_endpoint_with_a_typed_path_parameter_is_refused() -> None:
    async def endpoint(owner: int, request: Request) -> JSONResponse:
        raise AssertionError

    with pytest.raises(PlainRouteError, match="other than str"):
        _route_for(endpoint)


def test_an_endpoint_without_the_request_is_refused() -> None:
    async def endpoint(owner: str) -> JSONResponse:
        raise AssertionError

    with pytest.raises(PlainRouteError, match="no parameter named request"):
        _route_for(endpoint)
