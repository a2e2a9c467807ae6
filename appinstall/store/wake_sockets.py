"""Datagram sockets in a folder beside a SQLite file: how one process tells the others on that file that work is due.

SQLite has no ``NOTIFY``. A worker that runs in a process of its own beside ``serve`` on the same file would
otherwise hear of a publish only at its next poll, up to a second later. So each listening process binds a Unix
datagram socket in the file's wake folder (``wake_folder``), and a process that committed due work sends one byte
to every socket there but its own. A datagram is a few microseconds, needs no connection and never blocks: a peer
whose buffer is full has wake-ups waiting already, and one that is gone (killed, say) refuses it, and its socket
is removed. The folder's listing is read again when the folder changes, and at least every
``RELIST_SECONDS`` (a folder's time moves in coarse ticks: a socket bound in the same tick as the last listing
would otherwise go unseen).

The sockets carry nothing but "look now": a stray datagram costs a worker one look at the queue, never a wrong
delivery. Still, the folder must be this user's alone (mode 0700, owned by the process's user): one that another
user made first (in a shared temporary directory, say) is not used, and the workers poll instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import secrets
import socket
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

log = logging.getLogger("appinstall.store")

# A Unix socket's path must fit in 108 bytes (``sun_path``), the name here included.
_MAX_SOCKET_PATH: Final = 100
_SUFFIX: Final = ".sock"
_BIND_ATTEMPTS: Final = 3
RELIST_SECONDS: Final = 1.0


def wake_folder(database: str) -> Path:
    """Where the processes on ``database`` meet: beside the file, or, when that path would be too long for a
    socket's, a folder in the system's temporary directory named after the file (every process finds the same)."""
    database = os.path.abspath(database)
    beside = Path(f"{database}-wake")
    if len(str(beside)) + 1 + len(_socket_name()) <= _MAX_SOCKET_PATH:
        return beside
    digest = hashlib.blake2b(database.encode(), digest_size=10).hexdigest()
    return Path(tempfile.gettempdir()) / f"appinstall-wake-{digest}"


def _private(status: os.stat_result) -> bool:
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and status.st_mode & 0o077 == 0


def _socket_name() -> str:
    return f"{os.getpid()}-{secrets.token_hex(4)}{_SUFFIX}"


class Listener:
    """One bound socket: ``heard`` is called on the event loop (once per burst of datagrams) until ``close``."""

    def __init__(self, folder: Path, heard: Callable[[], None]) -> None:
        self.path = folder / _socket_name()
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        try:
            for attempt in range(_BIND_ATTEMPTS):
                folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not _private(os.lstat(folder)):
                    raise PermissionError(f"{folder} is not this user's alone (mode 0700)")
                try:
                    self._socket.bind(str(self.path))
                    break
                except FileNotFoundError:  # the last listener of another process removed the folder meanwhile
                    if attempt == _BIND_ATTEMPTS - 1:
                        raise
        except OSError:
            self._socket.close()
            raise
        self._heard = heard
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        loop.add_reader(self._socket.fileno(), self._read)

    def _read(self) -> None:
        while True:  # every datagram waiting: one look at the queue answers them all
            try:
                self._socket.recv(64)
            except OSError:  # none left (BlockingIOError), or the socket is closing
                break
        self._heard()

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._socket.fileno())
            self._loop = None
        self._socket.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with contextlib.suppress(OSError):  # the last one out removes the folder; another's socket keeps it
            self.path.parent.rmdir()


class Sender:
    """Sends "look now" to every socket in the folder but the ones this process listens on."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._seen: int | None = None  # the folder's modification time when it was last listed
        self._listed_at = 0.0
        self._peers: list[str] = []
        self.own: set[str] = set()
        self._warned = False

    def _refresh(self) -> None:
        try:
            status = os.lstat(self._folder)
        except FileNotFoundError:
            self._seen, self._peers = None, []
            return
        now = time.monotonic()
        if status.st_mtime_ns == self._seen and now - self._listed_at < RELIST_SECONDS:
            return
        self._seen, self._listed_at = status.st_mtime_ns, now
        if not _private(status):
            self._peers = []
            return
        with os.scandir(self._folder) as entries:
            self._peers = [entry.path for entry in entries if entry.name.endswith(_SUFFIX)]

    def send(self) -> int:
        """Wake every other listener; how many were sent to."""
        self._refresh()
        sent = 0
        for path in self._peers:
            if path in self.own:
                continue
            try:
                self._socket.sendto(b"!", path)
            except BlockingIOError:  # its buffer is full of wake-ups it has not read yet
                continue
            except OSError as error:
                if error.errno in (errno.ECONNREFUSED, errno.ENOENT):
                    self._forget(path)  # its process is gone (or its file already removed)
                elif not self._warned:
                    self._warned = True
                    log.warning("cannot wake the worker listening at %s (%s); it will poll", path, error)
                continue
            sent += 1
        return sent

    def _forget(self, path: str) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
        self._seen = None  # list again next time, whatever the folder's time says

    def close(self) -> None:
        self._socket.close()


__all__ = ["Listener", "Sender", "wake_folder"]
