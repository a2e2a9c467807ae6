"""Shared fixtures: the seed manifest from the platform's documentation, as bytes and as parsed JSON."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from appinstall.app import create_app
from appinstall.settings import Settings
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from appinstall.store.schema import metadata

SEED_PATH = Path(__file__).resolve().parent.parent / "appinstall" / "manifest" / "examples" / "seed.json"
SEED_BYTES = SEED_PATH.read_bytes()
SEED: dict[str, Any] = json.loads(SEED_BYTES)


@pytest.fixture
def seed() -> dict[str, Any]:
    """A fresh deep copy of the seed manifest that a test may change."""
    return copy.deepcopy(SEED)


# --- Stores on both engines ----------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("APPINSTALL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
TEST_MASTER_KEY = base64.b64encode(bytes(range(32))).decode()
TEST_OPERATOR_TOKEN = "aio_test-operator-token"


def _postgres_admin_url() -> str:
    return POSTGRES_URL.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh database for this test session on the machine's PostgreSQL, dropped at the end.

    When PostgreSQL cannot be reached the PostgreSQL cases are skipped on a developer's machine, but in CI
    (``CI=true``) they fail: they are part of what must pass.
    """
    name = f"appinstall_test_{os.getpid()}"

    async def admin(statement: str) -> None:
        engine = create_async_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, SQLAlchemyError) as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    base = _postgres_admin_url().rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same tests run on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'appinstall.db'}"
        return
    url: str = request.getfixturevalue("postgres_database")
    yield url

    async def reset() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as connection:
                existing = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
                names = ", ".join(table.name for table in metadata.sorted_tables if table.name in existing)
                if names:
                    await connection.execute(text(f"TRUNCATE {names} CASCADE"))
        finally:
            await engine.dispose()

    asyncio.run(reset())


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the newest revision once per run, copied for each test that starts an app: a fresh
    migration cost 50-80 ms a test here, finding the file current costs about 10."""
    template = tmp_path_factory.mktemp("template") / "appinstall.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{template}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return template


@pytest.fixture
def settings(database_url: str, tmp_path: Path, migrated_sqlite: Path) -> Settings:
    if database_url.startswith("sqlite"):
        database = Path(database_url.split("///", 1)[1])
        if not database.exists():
            shutil.copyfile(migrated_sqlite, database)
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        master_key=TEST_MASTER_KEY,
        operator_token=TEST_OPERATOR_TOKEN,
        worker=False,  # no background deliveries, except in the tests about them (tests/webhooks)
        # Each test's store makes its first signing key: an RSA key took 85-220 ms to generate here, an EC key 4 ms.
        # The default (RS256) is what tests/tokens/test_token_endpoints.py checks, with a store of its own.
        signing_algorithm="ES256",
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app, authenticated as the operator."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://appinstall.test", headers=headers) as http:
        yield http


@pytest.fixture
async def sqlite_store(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[Store]:
    """A store on a migrated SQLite file (where the inline reader and writer exist), for tests below the API."""
    shutil.copyfile(migrated_sqlite, tmp_path / "db.sqlite")
    store = Store(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"), Keyring.parse(TEST_MASTER_KEY))
    await upgrade(store.engine)
    yield store
    await store.close()
