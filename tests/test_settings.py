"""The settings' own rules: database URL forms, and the lease that must outlast a request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from appinstall.settings import Settings, normalise_database_url


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://u:p@db:5432/app", "postgresql+asyncpg://u:p@db:5432/app"),
        ("postgres://u:p@db/app", "postgresql+asyncpg://u:p@db/app"),
        ("postgresql+asyncpg://u@db/app", "postgresql+asyncpg://u@db/app"),
        ("sqlite:////var/lib/app.db", "sqlite+aiosqlite:////var/lib/app.db"),
        ("sqlite+aiosqlite:///app.db", "sqlite+aiosqlite:///app.db"),
    ],
)
def test_a_database_url_is_used_with_the_async_driver(given: str, used: str) -> None:
    assert normalise_database_url(given) == used


@pytest.mark.parametrize("given", ["postgresql+psycopg2://u@db/app", "mysql://u@db/app", "app.db", "postgres://"])
def test_a_database_url_of_another_driver_or_no_url_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match=r"postgresql://"):
        normalise_database_url(given)


def test_the_settings_normalise_the_database_url_they_are_given() -> None:
    assert Settings(database_url="postgres://u@db/app").resolved_database_url() == "postgresql+asyncpg://u@db/app"


def test_a_lease_no_longer_than_a_request_is_refused_under_both_variables() -> None:
    with pytest.raises(ValidationError, match=r"APPINSTALL_WEBHOOK_LEASE_SECONDS.*APPINSTALL_WEBHOOK_TIMEOUT_SECONDS"):
        Settings(webhook_lease_seconds=10, webhook_timeout_seconds=10)
