"""Browser fixtures, for every package's tests: Debian's Chromium driven by Playwright, and a live server for it.

Loaded as a plugin by ``tests/conftest.py``. Browser tests live in modules of their own, apart from async (anyio)
tests: see ``chromium``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import OPERATOR_TOKEN, LiveServer, live_server

CHROMIUM = os.environ.get("APPINSTALL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-gpu",
    "--disable-background-networking",  # this machine's network is closed: no calls home
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_EXPECTED_REFUSAL = "Failed to load resource: the server responded with a status of 4"


@dataclass
class Tenant:
    account_id: str
    key: str
    key_id: str


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, driven by Playwright (which downloads no browser of its own here).

    One per module, not per session: while Playwright's synchronous API is running, its event loop is the thread's
    running loop, and the suite's async tests and ``asyncio.run`` fixtures on the same worker would fail.

    Missing on a developer's machine: skipped. In CI (``CI=true``) it fails: the console's tests must run there.
    """
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleServer:
    server: LiveServer

    @property
    def url(self) -> str:
        return self.server.url

    def tenant(self, account_id: str) -> Tenant:
        operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        assert httpx.post(f"{self.url}/api/accounts", json={"id": account_id}, headers=operator).status_code == 201
        made = httpx.post(f"{self.url}/api/accounts/{account_id}/keys", json={}, headers=operator)
        assert made.status_code == 201
        return Tenant(account_id, made.json()["key"], made.json()["id"])


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """``appinstall serve --dev`` on SQLite, shared by a module's browser tests (each makes its own accounts)."""
    with live_server(tmp_path_factory.mktemp("console"), "--dev", APPINSTALL_SANDBOX_AGENT="echo") as server:
        yield ConsoleServer(server)


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) and page; fails the test on any page error or CSP violation."""
    context = chromium.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(message: Any) -> None:
        # A 4xx page a test opens on purpose is logged as a failed load; a CSP violation ("Refused to …") is not.
        if message.type == "error" and not message.text.startswith(_EXPECTED_REFUSAL):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    yield page
    context.close()
    assert not problems, problems


def browser_sign_in(page: Any, url: str, credential: str) -> None:
    page.goto(f"{url}/console")
    page.get_by_label("Admin key or operator token").fill(credential)
    page.get_by_role("button", name="Sign in").click()
