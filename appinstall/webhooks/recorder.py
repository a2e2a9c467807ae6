"""Writing attempts to the store in batches: one transaction for whatever finished in the same few milliseconds.

A delivery costs a handful of statements to record (the attempt, the delivery's new state, the webhook's health,
the next delivery of its conversation). One transaction each would make the store, not the network, the limit;
a batch shares the transaction and sends each kind of statement once. ``record`` returns only after the batch
holding its completion is committed, so a delivery's task (and its slot in the worker) lasts until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from appinstall.store import Store
from appinstall.webhooks import queue
from appinstall.webhooks.queue import Completion

log = logging.getLogger("appinstall.webhooks")

MAX_BATCH: Final = 256
GATHER_SECONDS: Final = 0.002


class Recorder:
    def __init__(self, store: Store, owner: str, *, disable_after_ms: int) -> None:
        self._store = store
        self._owner = owner
        self._disable_after_ms = disable_after_ms
        self._waiting: asyncio.Queue[tuple[Completion, asyncio.Future[bool]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="appinstall-webhook-recorder")

    async def record(self, completion: Completion) -> bool:
        """Record it with the next batch; True if the delivery was still this worker's (its lease held)."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.put_nowait((completion, done))
        return await done

    async def stop(self) -> None:
        """Write what is waiting, then stop."""
        await self._waiting.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            # One timer per batch, then whatever has arrived meanwhile: waiting for each completion in turn
            # (a timeout per item) cost more than recording it.
            await asyncio.sleep(GATHER_SECONDS)
            while len(batch) < MAX_BATCH and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[tuple[Completion, asyncio.Future[bool]]]) -> None:
        completions = [completion for completion, _ in batch]
        try:
            kept = await queue.complete_many(
                self._store, self._owner, completions, disable_after_ms=self._disable_after_ms
            )
        except Exception as error:  # nothing is lost: the leases expire and the deliveries are sent again
            log.exception("could not record %d attempts; they will be retried when their leases expire", len(batch))
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
        else:
            for completion, done in batch:
                if not done.done():
                    done.set_result(completion.job.seq in kept)
        finally:
            for _ in batch:
                self._waiting.task_done()
