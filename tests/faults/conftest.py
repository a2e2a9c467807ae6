"""Fault tests: real processes, real databases, and something breaking under load. ``pytest tests/faults`` runs them
alone; they are part of the whole suite too."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webhooks.receiver import make_tls_files


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_tls_files(tmp_path_factory.mktemp("tls"))
