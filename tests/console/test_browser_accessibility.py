"""Every console page, as assistive technology reads it: a language, one main heading, and a name for every control."""

from __future__ import annotations

from typing import Any

import httpx

from tests.browser import ConsoleServer, browser_sign_in
from tests.conftest import SEED

# For each form control in the page: its accessible name as far as HTML gives one (label, aria-label(ledby), or the
# text of a button), or "" when it has none. Hidden inputs are not controls a person meets.
_UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden')
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 120))"""


def _installed(console_server: ConsoleServer, account_id: str, key: str) -> str:
    manifest = {**SEED, "client_name": "a11y app"}
    manifest["capabilities"] = {
        "webhooks": {"ms.MessagingEventNotification.ContentEvent": {"endpoint": "http://127.0.0.1:9/"}}
    }
    made = httpx.post(
        f"{console_server.url}/api/account/{account_id}/configuration/app-install/installations",
        json=manifest,
        headers={"Authorization": f"Bearer {key}"},
    )
    assert made.status_code == 201, made.text
    installation_id: str = made.json()["id"]
    return installation_id


def test_every_page_has_a_language_one_main_heading_and_named_controls(
    console_server: ConsoleServer, page: Any
) -> None:
    tenant = console_server.tenant("a11y")
    installation = _installed(console_server, "a11y", tenant.key)
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    base = f"{console_server.url}/console/accounts/a11y"
    pages = [
        "/installations",
        "/installations/new",
        f"/installations/{installation}",
        f"/installations/{installation}/webhooks",
        f"/installations/{installation}/delete",
        "/deliveries",
        "/sandbox",
        "/keys",
    ]
    for path in pages:
        answer = page.goto(base + path)
        assert answer is not None and answer.status == 200, path
        assert page.evaluate("document.documentElement.lang") == "en", path
        assert page.locator("h1").count() == 1, path
        assert page.evaluate(_UNNAMED) == [], path


def test_the_check_finds_a_control_without_a_name(page: Any) -> None:
    page.set_content('<label for="a">A</label><input id="a"><input type="text"><button> </button><button>Go</button>')
    assert len(page.evaluate(_UNNAMED)) == 2
