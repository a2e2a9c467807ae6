"""Fixtures for delivery tests: a scripted HTTPS receiver, and settings that trust it and retry quickly
(``delivery_fixtures``, shared with tests/sandbox), and the account the tests install into."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from appinstall.app import create_app
from appinstall.settings import Settings
from tests.webhooks.delivery_fixtures import no_errors_logged, receiver, settings
from tests.webhooks.flow import ACCOUNT

__all__ = ["no_errors_logged", "receiver", "settings"]


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    """The account the delivery tests install into and publish to."""
    (await client.post("/api/accounts", json={"id": ACCOUNT})).raise_for_status()
    return ACCOUNT


@pytest.fixture
async def quiet_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with no worker of its own: the test plays the worker, or listens for its wake-ups."""
    app = create_app(settings.model_copy(update={"worker": False}))
    async with app.router.lifespan_context(app):
        yield app
