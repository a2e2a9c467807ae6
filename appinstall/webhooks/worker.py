"""The delivery worker: claims due deliveries, sends them, records the outcome, and sleeps until more are due.

Claims are fair (``fairness``): installations take turns, none has more than its cap claimed, and what waits for a
busy host holds no slot of the worker's concurrency, so one tenant's hanging endpoint slows only that tenant.

It wakes when the store's wakeup says deliveries are due (``store/wakeup.py``: after any commit that made some
due, in this process or, on PostgreSQL, in any other), and otherwise when the next retry is due (polling at most
every ``POLL_SECONDS`` as a safety net). Housekeeping runs every few seconds: expired leases are taken back, stalled
conversations unblocked and, once a minute, old history removed (``pruning``). On shutdown it stops claiming, lets
requests in flight finish for a moment, and gives back what is still unsent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import ssl
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Final

from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.store.wakeup import Subscription
from appinstall.webhooks import claims, fairness, metrics, queue
from appinstall.webhooks.models import AttemptResult, Completion, Job
from appinstall.webhooks.platform_compat import LenientSuccessWarnings
from appinstall.webhooks.policy import Decision, RetrySchedule, classify, decide, retry_after
from appinstall.webhooks.pruning import Pruner
from appinstall.webhooks.recorder import Recorder
from appinstall.webhooks.request import request_headers
from appinstall.webhooks.sender import Sender, host_key
from appinstall.webhooks.ssrf import AddressPolicy, endpoint_refusal, guarded_connector, parse_allow_list
from appinstall.webhooks.status import Status

log = logging.getLogger("appinstall.webhooks")

POLL_SECONDS: Final = 1.0
HOUSEKEEPING_SECONDS: Final = 5.0
# The stall check reads every blocked delivery; it is a safety net (publishing and finishing lock each
# conversation), so it runs rarely.
STALL_CHECK_SECONDS: Final = 300.0
CLAIM_BATCH: Final = 128
SHUTDOWN_GRACE_SECONDS: Final = 5.0
# The deliveries counter's label for each decision after an attempt.
_OUTCOME_LABELS: Final = {Status.SUCCEEDED: "succeeded", Status.FAILED: "failed", Status.PENDING: "retried"}


def schedule_from(settings: Settings) -> RetrySchedule:
    return RetrySchedule(
        first_delay=settings.webhook_retry_first_delay_seconds,
        retention_first_delay=settings.webhook_retention_first_delay_seconds,
        jitter=settings.webhook_retry_jitter,
        retry_after_cap=settings.webhook_retry_after_cap_seconds,
    )


def sender_from(settings: Settings) -> Sender:
    """A sender whose connections pass the SSRF guard; dev mode admits loopback."""
    policy = AddressPolicy(allow=parse_allow_list(settings.webhook_allow_cidrs), allow_loopback=settings.dev)
    tls = ssl.create_default_context()
    if settings.webhook_ca_file is not None:
        tls.load_verify_locations(cafile=settings.webhook_ca_file)
    # The pool is as large as the worker's concurrency, so no request ever waits for a connection inside its
    # timeout; the per-host bound is the worker's host runners, outside the timeout.
    connector = guarded_connector(policy, ssl=tls, limit=settings.webhook_concurrency, limit_per_host=0)
    return Sender(
        connector,
        connect_timeout=settings.webhook_connect_timeout_seconds,
        total_timeout=settings.webhook_timeout_seconds,
    )


class Worker:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        sender: Sender | None = None,
        rand: Callable[[], float] = random.random,
        shutdown_grace: float = SHUTDOWN_GRACE_SECONDS,
    ) -> None:
        self.store = store
        self.settings = settings
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._sender = sender
        self._schedule = schedule_from(settings)
        self._rand = rand
        self._shutdown_grace = shutdown_grace
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        # Claimed and not yet recorded, by seq. Those with an endpoint wait in their host's queue until one of the
        # host's runners (at most its per-host limit) takes them: one task per runner, not per delivery. Those
        # waiting for a runner to be free (see ``_waiting``) take no slot of the worker's concurrency.
        self._inflight: dict[int, Job] = {}
        self._hosts: dict[str, deque[Job]] = {}
        self._runners: dict[str, int] = {}
        self._busy: dict[str, int] = {}  # of a host's runners, those sending now
        self._cap = fairness.claim_cap(settings.webhook_per_host_concurrency)
        self._known_hosts = fairness.KnownHosts()
        # Installations the last claim could take nothing more of: their due deliveries do not shorten a sleep.
        self._unclaimable: frozenset[str] = frozenset()
        self._look_past = fairness.LookPast()  # when to read past their due backlog
        self._tasks: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._next_stall_check = 0.0
        self._recorder = Recorder(
            store,
            self.owner,
            disable_after_ms=settings.webhook_disable_after_seconds * 1000,
            on_recorded=self._recorded,
        )
        self._subscriptions = claims.Subscriptions()
        self._lenient = LenientSuccessWarnings()
        self._pruner = Pruner(store, settings.delivery_log_days, settings.audit_log_days)

    # --- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._sender is None:
            self._sender = sender_from(self.settings)
        if self.settings.dev:
            log.warning("DEV MODE: webhooks may reach loopback addresses and plain http://. Never use in production.")
        self._subscription = await self.store.wakeup.subscribe(self.wake)
        self._recorder.start()
        self._task = asyncio.create_task(self._run(), name="appinstall-webhook-worker")

    async def stop(self) -> None:
        """Stop claiming, give requests in flight a moment, then give back whatever is still unsent."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            await self._task
        # Runners start nothing new once stopping; what they are sending gets a moment to finish.
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self._shutdown_grace)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._recorder.stop()
        await queue.release(self.store, self.owner, list(self._inflight))
        if self._subscription is not None:
            await self._subscription.close()
        if self._sender is not None:
            await self._sender.close()

    @staticmethod
    def _loop_time() -> float:
        return asyncio.get_running_loop().time()

    def wake(self) -> None:
        """Look for due deliveries now (the store's wakeup calls it after a commit that made some due)."""
        self._look_past.want()
        self._wake.set()

    # --- the loop ---------------------------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_housekeeping = 0.0
        while not self._stopping.is_set():
            try:
                if loop.time() >= next_housekeeping:
                    await self._housekeeping()
                    next_housekeeping = loop.time() + min(HOUSEKEEPING_SECONDS, self.settings.webhook_lease_seconds / 3)
                free = self._free()
                wait = self._look_past.wait(loop.time()) if self._unclaimable else 0.0
                if wait > 0:
                    # Something may be due past a backlog the worker cannot take; a claim now could not look.
                    await self._sleep(wait)
                    continue
                if free > 0:
                    skip = self._held_back()
                    look = self._look_past.may(loop.time())
                    limit = min(free, CLAIM_BATCH)
                    claimed = await claims.claim_fairly(
                        self.store,
                        self.owner,
                        limit,
                        self.settings.webhook_lease_seconds * 1000,
                        self._subscriptions,
                        cap=self._cap,
                        skip=skip,
                        look_past=look,
                    )
                    if claimed.looked_seconds:
                        self._look_past.looked(loop.time(), claimed.looked_seconds, found=not claimed.nothing_past)
                    filled = claimed.full - self._unclaimable
                    self._unclaimable = claimed.full | skip
                    for job in claimed.jobs:
                        self._dispatch(job)
                    if len(claimed.jobs) == limit or (claimed.jobs and filled):
                        continue  # there may be more: the next claim skips whoever this one filled
                await self._sleep()
            except Exception:  # the store may be briefly unreachable: say so, wait, go on
                log.exception("webhook worker loop failed; retrying in %.0f s", POLL_SECONDS)
                await self._sleep(POLL_SECONDS)

    async def _sleep(self, seconds: float | None = None) -> None:
        # Clear first: a wake-up that arrives while the next due time is being read still counts.
        self._wake.clear()
        if self._stopping.is_set():
            return
        if seconds is None:
            seconds = POLL_SECONDS
            due = await self._next_due()
            if due is not None:
                seconds = min(seconds, max(0.0, (due - self.store.clock()) / 1000))
            elif self._unclaimable and self._look_past.wanted and self._free() > 0:
                # Something may be due past what it cannot take: look again as soon as a look may be taken. With
                # nothing skipped there is nothing to look past, and nothing pending: sleep until woken (this
                # term once made an idle worker claim without pause, a core's worth of empty claims).
                seconds = min(seconds, max(0.0, self._look_past.next_at - self._loop_time()))
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            if seconds > 0:  # a retry may have fallen due behind a backlog the worker cannot take
                self._look_past.want()

    async def _next_due(self) -> int | None:
        """When the next delivery the worker could claim is due, if it knows; None to wait for a wake-up."""
        if self._free() <= 0:
            return None  # only a finished delivery (which wakes this) can make a claim worth it
        if not self._unclaimable:
            return await queue.next_due_at(self.store)
        started = self._loop_time()
        if not self._look_past.may(started):
            return None
        due = await queue.next_due_at(self.store, self._unclaimable)
        self._look_past.looked(self._loop_time(), self._loop_time() - started, found=due is not None)
        return due

    async def _housekeeping(self) -> None:
        # Renew the leases of what this worker holds (some may wait for a busy host), then take back the
        # leases that other, dead, workers let expire.
        await queue.extend_leases(
            self.store, self.owner, list(self._inflight), self.settings.webhook_lease_seconds * 1000
        )
        reclaimed = await queue.reclaim_expired(self.store)
        if reclaimed:
            log.warning("took back %d deliveries whose worker's lease expired", reclaimed)
        if self._loop_time() >= self._next_stall_check:
            self._next_stall_check = self._loop_time() + STALL_CHECK_SECONDS
            unblocked = await queue.unblock_stalled(self.store)
            if unblocked:
                log.warning("unblocked %d conversations that had nothing in flight", unblocked)
        await self._pruner.run_if_due(self._loop_time())
        await metrics.refresh_queue_gauges(self.store)

    # --- dispatching ------------------------------------------------------------------------------------------

    def _free(self) -> int:
        """Slots for more claims: what is waiting for its host takes none."""
        return self.settings.webhook_concurrency - (len(self._inflight) - self._waiting())

    def _waiting(self) -> int:
        """Queued deliveries that no idle runner of their host is about to take."""
        return sum(
            max(0, len(queued) - (self._runners.get(host, 0) - self._busy.get(host, 0)))
            for host, queued in self._hosts.items()
        )

    def _held_back(self) -> frozenset[str]:
        per_host = self.settings.webhook_per_host_concurrency
        full = {host for host, waiting in self._hosts.items() if fairness.host_full(len(waiting), per_host)}
        return self._known_hosts.held_back(full)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dispatch(self, job: Job) -> None:
        """Queue a claimed delivery for its endpoint's host, and start a runner there if the host has room."""
        self._inflight[job.seq] = job
        try:
            host = host_key(job.endpoint) if job.endpoint is not None and job.refusal is None else None
        except ValueError:
            host = None
        if host is None:  # nothing to send (refused, or no usable URL): no host to wait for
            self._spawn(self._deliver(job))
            return
        self._known_hosts.add(job.installation_id, host)
        self._hosts.setdefault(host, deque()).append(job)
        if self._runners.get(host, 0) < self.settings.webhook_per_host_concurrency:
            self._runners[host] = self._runners.get(host, 0) + 1
            self._spawn(self._run_host(host))

    async def _run_host(self, host: str) -> None:
        """One of a host's runners: sends its queued deliveries one after another until none is left."""
        waiting = self._hosts[host]
        try:
            while waiting and not self._stopping.is_set():
                job = waiting.popleft()
                if len(waiting) == self.settings.webhook_per_host_concurrency - 1:
                    self._wake.set()  # the host has room in its queue again: its installations may claim
                self._busy[host] = self._busy.get(host, 0) + 1
                try:
                    await self._deliver(job)
                finally:
                    self._busy[host] -= 1
        finally:
            self._runners[host] -= 1
            if not self._runners[host]:
                del self._runners[host]
                self._busy.pop(host, None)
                if not waiting:
                    del self._hosts[host]

    # --- one delivery -----------------------------------------------------------------------------------------

    async def _deliver(self, job: Job) -> None:
        """Send it, then hand the outcome to the recorder. The delivery keeps its slot (and its lease is renewed)
        until the recorder has committed it: see ``_recorded``."""
        try:
            result, decision = await self._attempt(job)
        except Exception:  # never lose the delivery: its lease expires and another attempt follows
            log.exception("delivery %s failed unexpectedly; it will be retried when its lease expires", job.id)
            self._settle(job.seq)
            return
        self._recorder.submit(Completion(job, result, decision))

    def _recorded(self, completion: Completion, kept: bool | None) -> None:
        """The recorder's word on one completion: committed (``kept``: its lease still held) or not (None)."""
        self._settle(completion.job.seq)
        if kept is None:
            return  # the recorder said why; the lease expires and another attempt follows
        result, decision = completion.result, completion.decision
        outcome = "refused" if result is None else _OUTCOME_LABELS.get(decision.status, decision.status.value)
        metrics.DELIVERIES.labels(outcome).inc()
        if not kept:
            log.warning("delivery %s was taken over by another worker while in flight", completion.job.id)

    def _settle(self, seq: int) -> None:
        self._inflight.pop(seq, None)
        self._wake.set()

    async def _attempt(self, job: Job) -> tuple[AttemptResult | None, Decision]:
        if job.refusal is not None or job.endpoint is None:
            return None, Decision(Status.FAILED, reason=f"not sent: {job.refusal}")
        now = self.store.clock()
        refusal = endpoint_refusal(job.endpoint, dev=self.settings.dev)
        if refusal is not None:
            result = AttemptResult(started_at=now, latency_ms=0, error=f"endpoint refused: {refusal}")
        else:
            headers = request_headers(
                job.headers,
                account_id=job.account_id,
                client_id=job.installation_id,
                secrets=job.secrets,
                message_id=job.id,
                timestamp=now // 1000,
                body=job.body,
                attempt=job.attempts + 1,
                algorithm=job.signature_algorithm,
                encoding=job.signature_encoding,
            )
            assert self._sender is not None
            result = await self._sender.send(job.endpoint, headers, job.body)
            metrics.ATTEMPT_LATENCY.observe(result.latency_ms / 1000)
            # A 204 counts as delivered here, not on the platform: say so in dev mode, where receivers are written.
            if self.settings.dev:
                warning = self._lenient.warning(job.installation_id, job.event_type, result.status_code)
                if warning is not None:
                    log.warning("%s", warning)
        finished = self.store.clock()
        decision = decide(
            classify(result.status_code),
            budget=job.budget,
            schedule=self._schedule,
            attempts=job.round_attempts + 1,
            round_started_at=job.round_started_at,
            now=finished,
            retry_after=retry_after(result.status_code, result.retry_after, finished),
            rand=self._rand(),
        )
        return result, decision
