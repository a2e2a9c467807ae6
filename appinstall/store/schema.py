"""The whole schema: every domain's tables, loaded onto the shared metadata.

Importing a domain's ``tables`` module adds its tables to ``store.metadata.metadata``; this module imports them all,
so what it exports is complete. Read by what needs every table at once: Alembic's environment (migrations in
``migrations/versions`` create exactly this schema, and ``tests/store/test_migrations.py`` compares them), and the
tests that create or empty a database. Migration files themselves are history and never import it.
"""

from __future__ import annotations

from appinstall.accounts import tables as accounts
from appinstall.audit import tables as audit
from appinstall.console import tables as console
from appinstall.registry import tables as registry
from appinstall.sandbox import tables as sandbox
from appinstall.store.metadata import metadata
from appinstall.tokens import tables as tokens
from appinstall.webhooks import tables as webhooks

DOMAINS = (accounts, audit, console, registry, sandbox, tokens, webhooks)
"""Each domain's tables module, in alphabetical order: a new domain with tables is added here."""

__all__ = ["DOMAINS", "metadata"]
