"""The application as a whole: operations endpoints, OpenAPI, settings that change responses."""

from __future__ import annotations

import gc
import importlib.util
from importlib.machinery import ModuleSpec
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import appinstall.app
from appinstall.app import YOUNG_COLLECTION_EVERY, create_app, fastapi_telemetry
from appinstall.settings import Settings
from tests.conftest import SEED, TEST_OPERATOR_TOKEN

pytestmark = pytest.mark.anyio


async def test_healthz_and_readyz_answer_without_credentials(app: FastAPI) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
        assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
        assert (await anonymous.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_publishes_the_platform_paths_and_the_manifest_schema(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    assert "/api/account/{account_id}/configuration/app-install/installations" in spec["paths"]
    post = spec["paths"]["/api/account/{account_id}/configuration/app-install/installations"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Manifest"}
    assert "Webhook" in spec["components"]["schemas"]
    assert "#/$defs/" not in str(spec)


async def test_an_unknown_path_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_masking_hides_the_secret_on_read_but_not_on_create(settings: Settings) -> None:
    masked = create_app(settings.model_copy(update={"mask_client_secret": True}))
    headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    async with masked.router.lifespan_context(masked):
        transport = httpx.ASGITransport(app=masked)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            await client.post("/api/accounts", json={"id": "1"})
            created = (await client.post("/api/account/1/configuration/app-install/installations", json=SEED)).json()
            assert "client_secret" in created
            read = (await client.get(f"/api/account/1/configuration/app-install/installations/{created['id']}")).json()
            assert "client_secret" not in read


async def test_a_served_app_hides_its_startup_objects_from_the_garbage_collector(settings: Settings) -> None:
    application = create_app(settings, freeze_after_startup=True)
    threshold = gc.get_threshold()
    try:
        async with application.router.lifespan_context(application):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] == YOUNG_COLLECTION_EVERY
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


async def test_an_app_made_in_a_test_freezes_nothing(settings: Settings) -> None:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        assert gc.get_freeze_count() == 0


def _with_opentelemetry_sdk(monkeypatch: pytest.MonkeyPatch, installed: bool) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *arguments: Any) -> ModuleSpec | None:
        if name == "opentelemetry.sdk":
            return ModuleSpec(name, None) if installed else None
        return real(name, *arguments)

    monkeypatch.setattr(appinstall.app.importlib.util, "find_spec", find_spec)


def test_without_the_opentelemetry_sdk_fastapi_asks_for_no_telemetry_on_each_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_opentelemetry_sdk(monkeypatch, installed=False)
    assert fastapi_telemetry() == {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}


def test_with_the_opentelemetry_sdk_fastapi_keeps_its_own_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    _with_opentelemetry_sdk(monkeypatch, installed=True)
    assert fastapi_telemetry() == {}
