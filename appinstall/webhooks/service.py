"""The webhooks service: what the views and other domains call, gathered from the modules that do each job.

Publishing (``publishing``; many at once, ``batch``), reading the delivery log (``delivery_log``; across an
account's installations, ``account_log``), repairing deliveries by hand (``repair``), and an installation's sending
state and webhook health (``sending_state``).
"""

from __future__ import annotations

from appinstall.webhooks.account_log import (
    AccountLogPage,
    DeliveryFilter,
    current_states,
    deliveries_after,
    list_account_deliveries,
)
from appinstall.webhooks.batch import MAX_BATCH, publish_batch
from appinstall.webhooks.delivery_log import get_delivery, list_deliveries
from appinstall.webhooks.publishing import MAX_CONVERSATION_ID, publish, publish_into
from appinstall.webhooks.repair import recover, retry
from appinstall.webhooks.sending_state import delivery_state, enable_webhook, health

__all__ = [
    "MAX_BATCH",
    "MAX_CONVERSATION_ID",
    "AccountLogPage",
    "DeliveryFilter",
    "current_states",
    "deliveries_after",
    "delivery_state",
    "enable_webhook",
    "get_delivery",
    "health",
    "list_account_deliveries",
    "list_deliveries",
    "publish",
    "publish_batch",
    "publish_into",
    "recover",
    "retry",
]
