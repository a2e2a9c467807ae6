"""What the worker makes of an installation's manifest for each claimed delivery: its routes, cached by revision.

(The routes themselves are the manifest's projection, tested in ``tests/manifest/test_routes.py``.)"""

from __future__ import annotations

from appinstall.manifest.vocabulary import CONTENT_EVENT as CONTENT
from appinstall.webhooks import claims


def test_the_subscription_cache_forgets_the_oldest_entry_beyond_its_capacity() -> None:
    subscriptions = claims.Subscriptions(capacity=2)
    for revision in (1, 2, 3):
        webhooks = {CONTENT: {"endpoint": f"https://example.com/{revision}"}}
        subscriptions.put("app", revision, {"capabilities": {"webhooks": webhooks}})
    assert subscriptions.get("app", 1) is None
    cached = subscriptions.get("app", 3)
    assert cached is not None and [route.endpoint for route in cached.by_event_type.values()] == [
        "https://example.com/3"
    ]
