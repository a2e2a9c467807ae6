"""Persistence: the engine, the tables, migrations and encryption at rest."""

from appinstall.store.dialect import create_engine
from appinstall.store.engine import is_sqlite
from appinstall.store.group_commit import Batched
from appinstall.store.inline import fetch_in
from appinstall.store.keyring import Keyring, KeyringError
from appinstall.store.store import Store

__all__ = ["Batched", "Keyring", "KeyringError", "Store", "create_engine", "fetch_in", "is_sqlite"]
