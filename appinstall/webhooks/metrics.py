"""Prometheus metrics of webhook delivery, exposed at ``/metrics``.

Counters and the latency histogram are per process (Prometheus sums them across processes); the queue gauges are
read from the store, so every process reports the same, shared queue.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
QUEUE_DEPTH = Gauge("appinstall_webhook_queue_depth", "Deliveries not yet finished (blocked, pending or in flight).")
OLDEST_PENDING_AGE = Gauge(
    "appinstall_webhook_oldest_pending_age_seconds", "Age of the oldest unfinished delivery (0 when none)."
)
