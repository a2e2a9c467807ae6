"""The operator's log lines for deliveries: one per failed attempt, per refusal, per webhook disabled, per
conversation left with a failed delivery. Written once the batch that recorded them has committed.

Each line is an event with fields (``installation=… event_type=… delivery=…``), so a JSON log can be filtered on
them; none carries a body, a header or a secret. Successes are not logged (the metrics count them): a busy worker
would otherwise write a line per delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from appinstall.webhooks.health import Disabled
from appinstall.webhooks.models import Completion
from appinstall.webhooks.status import Status

log = logging.getLogger("appinstall.webhooks")

SSRF_PREFIX = "blocked"  # how webhooks/failures.py begins the short error of a connection the guard refused


def _moment(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def log_outcomes(completions: Sequence[Completion], disabled: Sequence[Disabled]) -> None:
    for completion in completions:
        _log_completion(completion)
    for webhook in disabled:
        log.warning(
            "webhook disabled",
            extra={
                "account": webhook.account_id,
                "installation": webhook.installation_id,
                "event_type": webhook.event_type,
                "reason": webhook.reason,
                "fix": "re-enable it: POST …/installations/{id}/webhooks/{event_type}/enable, then recover",
            },
        )


def _log_completion(completion: Completion) -> None:
    job, result, decision = completion.job, completion.result, completion.decision
    fields: dict[str, object] = {
        "account": job.account_id,
        "installation": job.installation_id,
        "event_type": job.event_type,
        "delivery": job.id,
    }
    if result is None:  # refused unsent: the installation or webhook is gone or disabled
        if decision.status == Status.FAILED:
            log.info("delivery refused unsent", extra=fields | {"reason": decision.reason})
        return
    if decision.status == Status.SUCCEEDED:
        return
    fields["attempt"] = job.attempts + 1
    if result.status_code is not None:
        fields["status"] = result.status_code
    else:
        fields["error"] = result.error
    if decision.status == Status.PENDING and decision.retry_at is not None:
        fields["retry_at"] = _moment(decision.retry_at)
    else:
        fields["gave_up"] = decision.reason
    if result.error is not None and result.error.startswith(SSRF_PREFIX):
        log.warning("webhook request blocked by the SSRF guard", extra=fields)
    else:
        log.warning("webhook attempt failed", extra=fields)
    if decision.status == Status.FAILED and job.conversation_id is not None:
        log.warning(
            "conversation left with a failed delivery; its later notifications are delivered past it",
            extra={
                "installation": job.installation_id,
                "conversation": job.conversation_id,
                "delivery": job.id,
                "fix": f"appinstall deliveries retry {job.installation_id} {job.id}, or recover --since "
                f"{_moment(result.started_at)}",
            },
        )
