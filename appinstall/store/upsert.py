"""``INSERT … ON CONFLICT DO UPDATE``: both engines have it, but SQLAlchemy spells it per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite


def upsert_insert(dialect: str) -> Any:
    """The dialect's ``insert`` construct, the one with ``on_conflict_do_update``."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
