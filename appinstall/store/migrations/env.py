"""Alembic environment: migrations always run on a connection handed over by ``appinstall.store.migrate``."""

from alembic import context

from appinstall.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `appinstall db upgrade`, which provides the connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
