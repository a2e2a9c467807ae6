"""What ``appinstall serve`` checks before it says it is serving: the store, its SQLite folder, and its port.

Uvicorn opens the application (and so the store) and binds the port only once it runs, and reports a failure of
either as a traceback, after our "serving on" line. So ``serve`` first opens and checks the store itself (the
same check every process runs), takes the SQLite folder's lock, and binds the socket, each failure one line and
exit code 2; only then does it say where it serves, and hands uvicorn the bound socket.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path
from typing import IO

import typer
import uvicorn
from sqlalchemy.engine import make_url

from appinstall.cli.startup_errors import STARTUP_EXIT_CODE, fail, with_store
from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.store.engine import is_sqlite

# Held open for the life of the process: the kernel releases the lock when it exits, however it exits.
_held_locks: list[IO[str]] = []


def lock_path(database: str) -> Path:
    return Path(f"{database}-serve.lock")


def lock_sqlite_store(settings: Settings) -> None:
    """One ``serve`` per SQLite store: a second would run a second worker on the same queue, behind the first's
    in-process locks. An advisory lock beside the database file, released by the kernel even after kill -9."""
    url = settings.resolved_database_url()
    database = make_url(url).database if is_sqlite(url) else None
    if not database or database == ":memory:":
        return
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        fail(
            [
                f"another `appinstall serve` ({holder}) already uses the SQLite store {database}: stop it first, or "
                "give this one its own APPINSTALL_DATA_DIR (or use PostgreSQL for several servers)"
            ]
        )
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    _held_locks.append(handle)


def check_store(settings: Settings) -> None:
    """Open the store, migrate it and check the master keys, as the server will at start; exit 2 if it cannot."""

    async def nothing(_: Store) -> None:
        return None

    with_store(settings, nothing)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (as uvicorn would make it), or exit 2 naming the setting to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            line = (
                f"port {port} on {host} is in use by another process: stop it, or choose another port with --port "
                "or APPINSTALL_PORT"
            )
        elif error.errno == errno.EACCES:
            line = f"port {port} needs privileges on this system: choose one above 1023 with --port or APPINSTALL_PORT"
        else:
            line = (
                f"cannot listen on {host} port {port} ({error.strerror or error}): choose an address of this "
                "machine with --host or APPINSTALL_HOST (e.g. 127.0.0.1 or 0.0.0.0)"
            )
        fail([line], error)
    sock.set_inheritable(True)
    return sock


def run_bound(config: uvicorn.Config, settings: Settings) -> None:
    """Bind, say so, and run uvicorn on the bound socket; exit 2 if the application then fails to start."""
    sock = bind(settings.host, settings.port)
    typer.echo(f"appinstall: serving on http://{settings.host}:{settings.port} (docs at /docs)", err=True)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
    if not server.started:
        raise typer.Exit(STARTUP_EXIT_CODE)
