"""Delivery ids: Standard Webhooks message ids, unique, led by the time so the ids index grows at its end."""

from __future__ import annotations

import re

from appinstall.webhooks.publishing import new_delivery_ids

NOW = 1_764_900_000_000  # 2025-12-05, in milliseconds


def test_an_id_is_msg_and_32_hex_digits_led_by_the_time() -> None:
    [one] = new_delivery_ids(1, NOW)
    assert re.fullmatch(r"msg_[0-9a-f]{32}", one)
    assert int(one[4:16], 16) == NOW


def test_ids_made_together_are_all_different() -> None:
    ids = new_delivery_ids(10_000, NOW)
    assert len(set(ids)) == 10_000


def test_a_later_id_sorts_after_an_earlier_one() -> None:
    earlier = new_delivery_ids(100, NOW)
    later = new_delivery_ids(100, NOW + 1)
    assert max(earlier) < min(later)
