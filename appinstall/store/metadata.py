"""The one ``MetaData`` every domain's tables join, and the column types they share.

Each domain declares its own tables (``accounts/tables.py``, ``registry/tables.py``, …) on this metadata, so foreign
keys across domains resolve by table name and one naming convention names every constraint alike. The complete
schema, with every domain's tables loaded, is ``store.schema``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# A 64-bit key on PostgreSQL; on SQLite an INTEGER PRIMARY KEY, the only kind that autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

__all__ = ["BigId", "metadata"]
