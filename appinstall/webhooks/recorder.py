"""Writing attempts to the store in batches: one transaction for whatever finished in the same few milliseconds.

A delivery costs a handful of statements to record (the attempt, the delivery's new state, the webhook's health,
the next delivery of its conversation). One transaction each would make the store, not the network, the limit;
a batch shares the transaction and sends each kind of statement once. The worker hears of each completion through
``on_recorded`` once its batch is committed (or has failed); a delivery keeps its slot in the worker until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Final

from appinstall.store import Store
from appinstall.store.outage import retried_while_out_of_reach
from appinstall.webhooks import health, queue
from appinstall.webhooks.models import Completion
from appinstall.webhooks.outcome_log import log_outcomes

log = logging.getLogger("appinstall.webhooks")

# Called for every completion once its batch is written: True if the delivery was still this worker's (its lease
# held), False if another worker had taken it over, None if the batch could not be written.
OnRecorded = Callable[[Completion, bool | None], None]

MAX_BATCH: Final = 256
GATHER_SECONDS: Final = 0.002
RETRY_DELAYS: Final = (0.2, 0.5, 1.0, 2.0, 4.0)  # about 8 s in all, well inside a lease


class Recorder:
    def __init__(self, store: Store, owner: str, *, disable_after_ms: int, on_recorded: OnRecorded) -> None:
        self._store = store
        self._owner = owner
        self._disable_after_ms = disable_after_ms
        self._on_recorded = on_recorded
        self._waiting: asyncio.Queue[Completion] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="appinstall-webhook-recorder")

    def submit(self, completion: Completion) -> None:
        """Record it with the next batch; ``on_recorded`` says when that is done. (No future to await for each of
        thousands of completions a second: the callback is cheaper.)"""
        self._waiting.put_nowait(completion)

    async def stop(self) -> None:
        """Write what is waiting, then stop."""
        await self._waiting.join()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _complete(self, batch: list[Completion], disabled: list[health.Disabled]) -> set[int] | None:
        """Write the batch; if the store is out of reach (a dropped connection, a restart), try again a few times:
        the results are known, and waiting for the leases to expire instead would hold the deliveries (and their
        installation's fair share of claims) for a whole lease. None if it never could."""
        try:
            return await retried_while_out_of_reach(
                lambda: queue.complete_many(
                    self._store, self._owner, batch, disable_after_ms=self._disable_after_ms, disabled=disabled
                ),
                RETRY_DELAYS,
                waiting=lambda delay: log.warning(
                    "could not record %d attempts; trying again in %.1f s", len(batch), delay
                ),
            )
        except Exception:
            log.exception("could not record %d attempts; they will be retried when their leases expire", len(batch))
            return None

    async def _run(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            # One timer per batch, then whatever has arrived meanwhile: waiting for each completion in turn
            # (a timeout per item) cost more than recording it.
            await asyncio.sleep(GATHER_SECONDS)
            while len(batch) < MAX_BATCH and not self._waiting.empty():
                batch.append(self._waiting.get_nowait())
            await self._write(batch)

    async def _write(self, batch: list[Completion]) -> None:
        outcomes: list[bool | None]
        disabled: list[health.Disabled] = []
        kept = await self._complete(batch, disabled)
        if kept is None:  # nothing is lost: the leases expire and the deliveries are sent again
            outcomes = [None] * len(batch)
        else:
            outcomes = [completion.job.seq in kept for completion in batch]
            log_outcomes([c for c, ours in zip(batch, outcomes, strict=True) if ours], disabled)
        for completion, outcome in zip(batch, outcomes, strict=True):
            try:
                self._on_recorded(completion, outcome)
            except Exception:  # the recorder must outlive a faulty listener, or nothing more is ever recorded
                log.exception("on_recorded failed for delivery %s", completion.job.id)
        # Only now is the batch done: ``stop`` returns after the worker has heard of every completion.
        for _ in batch:
            self._waiting.task_done()
