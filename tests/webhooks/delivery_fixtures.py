"""The fixtures of the tests that deliver webhooks (tests/webhooks and tests/sandbox, whose conftests import them):
a scripted HTTPS receiver, settings that trust it and retry quickly, and no error logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from appinstall.settings import Settings
from tests.webhooks.receiver import Receiver


@pytest.fixture
async def receiver(tls_files: tuple[Path, Path, Path]) -> AsyncIterator[Receiver]:
    _, cert, key = tls_files
    server = Receiver(cert, key)
    await server.start()
    yield server
    await server.stop()


def delivering(settings: Settings, tls_files: tuple[Path, Path, Path], *, timeout_seconds: float = 1.0) -> Settings:
    """A worker in the app, dev mode (the receiver is on loopback), the test CA trusted, short timeouts and
    near-instant retries."""
    return settings.model_copy(
        update={
            "dev": True,
            "worker": True,
            "webhook_ca_file": tls_files[0],
            "webhook_connect_timeout_seconds": timeout_seconds,
            "webhook_timeout_seconds": timeout_seconds,
            "webhook_retry_first_delay_seconds": 0.05,
            "webhook_retention_first_delay_seconds": 0.05,
            "webhook_retry_jitter": 0.0,
        }
    )


@pytest.fixture
def settings(settings: Settings, tls_files: tuple[Path, Path, Path]) -> Settings:
    """Timeouts of 1 s: the webhook tests about timeouts count on them."""
    return delivering(settings, tls_files)


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A delivery test fails if the engine logged an error, even when its retries hid the consequence."""
    caplog.set_level(logging.WARNING, logger="appinstall")
    yield
    errors = [r.getMessage() for r in caplog.records if r.name.startswith("appinstall") and r.levelno >= logging.ERROR]
    assert not errors, errors
