"""Prometheus metrics of webhook delivery, exposed at ``/metrics``.

Counters and the latency histogram are per process: a worker's are served by the process that runs it
(``appinstall serve``, or ``appinstall worker --metrics-port``), and Prometheus sums them across processes. The
queue gauges describe the one shared queue: ``/metrics`` reads them from the store at each scrape, and a worker
refreshes them as it goes.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from appinstall.store import Store
from appinstall.webhooks import queue

DELIVERIES = Counter(
    "appinstall_webhook_deliveries",
    "Finished webhook attempts by outcome: succeeded, retried, failed (given up) or refused (not sent).",
    ["outcome"],
)
ATTEMPT_LATENCY = Histogram(
    "appinstall_webhook_attempt_seconds",
    "Time from sending a webhook request to its complete answer (or failure).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ROWS_REMOVED = Counter(
    "appinstall_rows_removed",
    "Rows removed by age (APPINSTALL_DELIVERY_LOG_DAYS, APPINSTALL_AUDIT_LOG_DAYS), by table.",
    ["table"],
)
QUEUE_DEPTH = Gauge("appinstall_webhook_queue_depth", "Deliveries not yet finished (blocked, pending or in flight).")
OLDEST_PENDING_AGE = Gauge(
    "appinstall_webhook_oldest_pending_age_seconds", "Age of the oldest unfinished delivery (0 when none)."
)


async def refresh_queue_gauges(store: Store) -> None:
    depth, oldest = await queue.queue_depth(store)
    QUEUE_DEPTH.set(depth)
    OLDEST_PENDING_AGE.set(0 if oldest is None else max(0, store.clock() - oldest) / 1000)
