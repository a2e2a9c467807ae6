"""Fault tests: real processes, real databases, and something breaking under load. ``pytest -m fault`` runs them
(these, and the hanging receiver and slow-client tests in tests/webhooks and tests/http); they are part of the whole
suite too."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/faults/" in str(item.path):
            item.add_marker(pytest.mark.fault)
