"""The recorder reports every completion once its batch is written, and survives a listener that fails."""

from __future__ import annotations

import asyncio

import pytest

from appinstall.store import Store
from appinstall.webhooks.models import AttemptResult, Completion, Job
from appinstall.webhooks.policy import Budget, Decision
from appinstall.webhooks.recorder import Recorder
from appinstall.webhooks.status import Status

pytestmark = pytest.mark.anyio


def _completion(seq: int) -> Completion:
    """A completion of a delivery the store does not hold: recording it fails (its attempt has no delivery)."""
    job = Job(
        seq=seq,
        id=f"msg_{seq}",
        account_id="acme",
        installation_id="app",
        event_type="ExConversationChangeNotification",
        conversation_id=None,
        body=b"{}",
        attempts=0,
        round_attempts=0,
        round_started_at=0,
        endpoint="https://example.com/hook",
        headers={},
        budget=Budget(max_retries=0),
        secrets=["secret"],
    )
    return Completion(job, AttemptResult(started_at=0, latency_ms=1, status_code=200), Decision(Status.SUCCEEDED))


async def test_a_completion_that_cannot_be_written_is_reported_as_not_recorded(sqlite_store: Store) -> None:
    heard: list[tuple[int, bool | None]] = []
    recorder = Recorder(
        sqlite_store, "me", disable_after_ms=1, on_recorded=lambda c, kept: heard.append((c.job.seq, kept))
    )
    recorder.start()
    recorder.submit(_completion(1))
    await asyncio.wait_for(recorder.stop(), timeout=10)
    assert heard == [(1, None)]


async def test_a_listener_that_fails_does_not_stop_the_recorder(sqlite_store: Store) -> None:
    heard: list[int] = []

    def listener(completion: Completion, _: bool | None) -> None:
        heard.append(completion.job.seq)
        if completion.job.seq == 1:
            raise RuntimeError("a bug in the listener")

    recorder = Recorder(sqlite_store, "me", disable_after_ms=1, on_recorded=listener)
    recorder.start()
    recorder.submit(_completion(1))
    await asyncio.sleep(0.1)  # its own batch
    recorder.submit(_completion(2))
    await asyncio.wait_for(recorder.stop(), timeout=10)  # a dead recorder would never finish the second
    assert heard == [1, 2]
