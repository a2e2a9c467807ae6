"""Waking the workers: a transaction that makes work due says so, and once it commits every waiting worker hears.

Publishing (a notification's deliveries, a retry, a recovery, a retry decision, deliveries given back, the
sandbox's notifications) calls ``wake_after_commit(connection)`` inside its transaction (``webhooks.queue.
wake_workers``, beside the rows it writes), and nothing else does: no view, no caller, has to remember a wake-up,
and a transaction that rolls back wakes no one. A forgotten wake-up used to leave the work to the worker's next
poll, up to a second later.

The seam is here, in the store, because the store owns the transactions (``Store.transaction``,
``Store.run_transaction``): it alone knows when one has committed. Each store has one ``Wakeup``, chosen once
when it is opened (``wakeup_for``):

* ``LocalWakeup``, in-process: the workers of this process that listen are called right after the commit
  (a SQLite database in memory, which no other process can open);
* ``SocketWakeup``, on a SQLite file: the same, and a datagram to every other process on the file that listens
  (``store/wake_sockets.py``), so that ``appinstall worker`` beside ``serve --no-worker`` hears at once;
* ``NotifyWakeup``, where the dialect can notify (PostgreSQL): the same, and a ``NOTIFY`` in the transaction, which
  the database delivers to every listening process when, and only if, it commits; workers ``LISTEN`` on a
  connection of their own, and pass over the notices of their own process (already called, without the round
  trip).

Waking workers through something outside the database (Redis pub/sub, say) is one more ``Wakeup`` here, chosen in
``wakeup_for``; a third database is one more ``Dialect`` (``store/dialect.py``). Nothing else changes.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from appinstall.store.dialect import Dialect, Listening
from appinstall.store.wake_sockets import Listener, Sender, wake_folder

log = logging.getLogger("appinstall.store")

CHANNEL: Final = "appinstall_deliveries"
_FRAME: Final = "appinstall.committing"

Wake = Callable[[], None]


class Subscription(Protocol):
    """A worker's hold on the wakeup; ``close`` when it stops."""

    async def close(self) -> None: ...


class Wakeup(Protocol):
    def due(self, connection: Connection, after_commit: list[Wake]) -> None:
        """Inside a transaction that made work due: arrange for the workers to hear of it once it commits.
        ``after_commit`` is the transaction's list of what to call then (see ``committing``)."""

    async def subscribe(self, wake: Wake) -> Subscription:
        """Call ``wake`` (on the event loop) whenever work may have become due, until the subscription closes."""

    def close(self) -> None:
        """Let go of what it holds (the store closes)."""


@dataclass
class _LocalSubscription:
    wakeup: LocalWakeup
    wake: Wake
    listening: Listening | None = None

    async def close(self) -> None:
        self.wakeup.subscribers.discard(self.wake)
        if self.listening is not None:
            await self.listening.close()


@dataclass
class LocalWakeup:
    """This process's workers, called after the commit: no round trip, no other process hears."""

    subscribers: set[Wake] = field(default_factory=set)

    def due(self, connection: Connection, after_commit: list[Wake]) -> None:
        if self.fire not in after_commit:
            after_commit.append(self.fire)

    def fire(self) -> None:
        for wake in list(self.subscribers):
            try:
                wake()
            except Exception:  # one faulty subscriber must not keep the others asleep, nor fail the commit's caller
                log.exception("a wake-up subscriber failed")

    async def subscribe(self, wake: Wake) -> Subscription:
        self.subscribers.add(wake)
        return _LocalSubscription(self, wake)

    def close(self) -> None:
        return None


@dataclass(kw_only=True)
class NotifyWakeup(LocalWakeup):
    """This process's workers after the commit, and every other process's through the database's notices."""

    dialect: Dialect
    engine: AsyncEngine
    # Sent with each notice, so that this process's listeners know their own.
    origin: str = field(default_factory=lambda: uuid.uuid4().hex)

    def due(self, connection: Connection, after_commit: list[Wake]) -> None:
        first = self.fire not in after_commit
        super().due(connection, after_commit)
        if first:
            self.dialect.notify(connection, CHANNEL, self.origin)

    async def subscribe(self, wake: Wake) -> Subscription:
        def heard(origin: str) -> None:
            if origin != self.origin:
                wake()

        listening = await self.dialect.listen(self.engine, CHANNEL, heard)
        self.subscribers.add(wake)
        return _LocalSubscription(self, wake, listening)


@dataclass
class _SocketSubscription:
    wakeup: SocketWakeup
    wake: Wake
    listener: Listener

    async def close(self) -> None:
        self.wakeup.subscribers.discard(self.wake)
        self.wakeup.forget(self.listener)


@dataclass(kw_only=True)
class SocketWakeup(LocalWakeup):
    """This process's workers after the commit, and those of every other process on the same SQLite file by a
    datagram each (``wake_sockets``): SQLite cannot notify."""

    database: str
    folder: Path = field(init=False)
    sender: Sender = field(init=False)
    listeners: set[Listener] = field(default_factory=set)
    _warned: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.folder = wake_folder(self.database)
        self.sender = Sender(self.folder)

    def fire(self) -> None:
        super().fire()
        try:
            self.sender.send()
        except OSError as error:  # the folder cannot be read: the other processes' workers poll instead
            if not self._warned:  # said once: this runs after every commit that made work due
                self._warned = True
                log.warning("cannot wake the other processes on %s (%s); their workers will poll", self.database, error)

    async def subscribe(self, wake: Wake) -> Subscription:
        try:
            listener = Listener(self.folder, wake)
        except OSError as error:
            log.warning(
                "cannot listen for other processes' commits beside %s (%s): this worker hears only its own "
                "process's at once and polls for the rest",
                self.database,
                error,
            )
            return await super().subscribe(wake)
        listener.start(asyncio.get_running_loop())
        self.sender.own.add(str(listener.path))
        self.listeners.add(listener)
        self.subscribers.add(wake)
        return _SocketSubscription(self, wake, listener)

    def forget(self, listener: Listener) -> None:
        self.sender.own.discard(str(listener.path))
        self.listeners.discard(listener)
        listener.close()

    def close(self) -> None:
        """Close the sockets still listening (their files and, with the last, the folder go too) and the sender's."""
        for listener in list(self.listeners):
            self.forget(listener)
        self.sender.close()


def wakeup_for(dialect: Dialect, engine: AsyncEngine) -> Wakeup:
    """The store's wakeup, chosen once when it is opened."""
    if dialect.notifies:
        return NotifyWakeup(dialect=dialect, engine=engine)
    database = dialect.inline_database(engine.url)
    if database is not None:
        return SocketWakeup(database=database)
    return LocalWakeup()


@dataclass(frozen=True)
class _Committing:
    wakeup: Wakeup
    after_commit: list[Wake]


@contextmanager
def committing(connection: Connection | AsyncConnection, wakeup: Wakeup, after_commit: list[Wake]) -> Iterator[None]:
    """For the store's transactions: while the block runs, ``wake_after_commit`` on this connection adds to
    ``after_commit``, which the store calls once the transaction has committed.

    The mark lives in the connection's ``info``, which belongs to the pooled connection and outlives the
    transaction, so it is taken off again whatever happens (a dropped connection included, whose ``info`` cannot
    be read any more: the error the caller sees must stay the drop, which the store's callers know how to answer).
    """
    info = connection.info  # kept: a connection the database dropped cannot give it again
    info[_FRAME] = _Committing(wakeup, after_commit)
    try:
        yield
    finally:
        info.pop(_FRAME, None)


def wake_after_commit(connection: Connection) -> None:
    """Inside a transaction that made deliveries due: the workers wake once it commits, never if it rolls back."""
    frame: _Committing | None = connection.info.get(_FRAME)
    if frame is None:
        raise RuntimeError("wake_after_commit outside a store transaction: nothing would wake the workers")
    frame.wakeup.due(connection, frame.after_commit)


__all__ = [
    "CHANNEL",
    "LocalWakeup",
    "NotifyWakeup",
    "SocketWakeup",
    "Subscription",
    "Wake",
    "Wakeup",
    "committing",
    "wake_after_commit",
    "wakeup_for",
]
