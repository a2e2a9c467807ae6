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

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import create_async_engine

from appinstall.app import create_app
from appinstall.settings import Settings
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from appinstall.store.schema import metadata
from tests.webhooks.receiver import make_tls_files

pytest_plugins = ("tests.browser",)  # Chromium fixtures, for the console's and the API reference's browser tests

SEED_PATH = Path(__file__).resolve().parent.parent / "appinstall" / "manifest" / "examples" / "seed.json"
SEED_BYTES = SEED_PATH.read_bytes()
SEED: dict[str, Any] = json.loads(SEED_BYTES)


@pytest.fixture
def seed() -> dict[str, Any]:
    """A fresh deep copy of the seed manifest that a test may change."""
    return copy.deepcopy(SEED)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A test CA, and a certificate and key for 127.0.0.1 it signed: for the HTTPS receivers of the tests that
    deliver webhooks (``tests/webhooks/receiver.py``), made once a session."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


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


class PostgresEmptier:
    """Empties the session's PostgreSQL database after each test, on one connection kept for the whole run.

    ``DELETE FROM`` each table, children first, costs about a millisecond on a test's few rows; ``TRUNCATE`` of the
    sixteen tables cost 50-90 ms (it swaps every table's files), a new engine and connection per test 10-20 more,
    and a copy of a template database (``CREATE DATABASE … TEMPLATE``) 0.5-4 s. What is left is what TRUNCATE left:
    the schema, the Alembic revision and the sequences' positions.
    """

    def __init__(self, url: str) -> None:
        self._url = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._loop = asyncio.new_event_loop()  # the connection's own: each test's event loop is gone by its teardown
        self._connection: asyncpg.Connection | None = None
        children_first = [table.name for table in reversed(metadata.sorted_tables)]
        self._order = {name: position for position, name in enumerate(children_first)}

    def empty(self) -> None:
        try:
            self._loop.run_until_complete(self._empty())
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            self._connection = None  # dropped (a test restarted the server?): once more on a new connection
            self._loop.run_until_complete(self._empty())

    async def _empty(self) -> None:
        if self._connection is None or self._connection.is_closed():
            self._connection = await asyncpg.connect(self._url)
        rows = await self._connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        tables = sorted((row[0] for row in rows if row[0] in self._order), key=self._order.__getitem__)
        if tables:
            await self._connection.execute("; ".join(f'DELETE FROM "{table}"' for table in tables))

    def close(self) -> None:
        if self._connection is not None:
            self._loop.run_until_complete(self._connection.close())
        self._loop.close()


@pytest.fixture(scope="session")
def postgres_emptier(postgres_database: str) -> Iterator[PostgresEmptier]:
    emptier = PostgresEmptier(postgres_database)
    yield emptier
    emptier.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same tests run on the embedded default and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'appinstall.db'}"
        return
    emptier: PostgresEmptier = request.getfixturevalue("postgres_emptier")
    yield request.getfixturevalue("postgres_database")
    emptier.empty()


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
