"""The API reference in real Chromium: it renders every operation offline, under its Content-Security-Policy."""

from __future__ import annotations

from typing import Any

from tests.browser import ConsoleServer


def test_the_reference_renders_the_operations_without_a_policy_violation(
    console_server: ConsoleServer, page: Any
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{console_server.url}/docs")
    page.locator(".opblock").first.wait_for(timeout=15_000)
    assert page.locator(".opblock").count() > 20
    assert page.get_by_text("Install an app from a manifest").first.is_visible()
    assert all(url.startswith((console_server.url, "data:")) for url in requested), requested
