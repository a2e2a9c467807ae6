"""Persistence: the engine, the tables, migrations and encryption at rest."""

from appinstall.store.engine import create_engine, is_sqlite
from appinstall.store.keyring import Keyring, KeyringError
from appinstall.store.store import Store

__all__ = ["Keyring", "KeyringError", "Store", "create_engine", "is_sqlite"]
