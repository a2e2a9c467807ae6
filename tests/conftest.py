"""Shared fixtures: the seed manifest from the platform's documentation, as bytes and as parsed JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

SEED_PATH = Path(__file__).resolve().parent.parent / "appinstall" / "manifest" / "examples" / "seed.json"
SEED_BYTES = SEED_PATH.read_bytes()
SEED: dict[str, Any] = json.loads(SEED_BYTES)


@pytest.fixture
def seed() -> dict[str, Any]:
    """A fresh deep copy of the seed manifest that a test may change."""
    return copy.deepcopy(SEED)
