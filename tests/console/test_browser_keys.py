"""The keys page in real Chromium: a new key shown once, and revoking the session's own key, confirmed, signs out."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import ConsoleServer, browser_sign_in


def test_a_new_key_is_shown_once_and_revoking_ones_own_key_signs_out(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-keys-page")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.get_by_role("link", name="Keys").click()
    page.get_by_label("Name (optional, to tell keys apart)").fill("ci bot")
    page.get_by_role("button", name="Create key").click()
    new_key = page.get_by_label("The new admin key").input_value()
    assert new_key.startswith("aik_") and new_key not in page.url
    page.reload()  # the address is the keys page's own: a GET, not the form sent again (which makes a second key)
    assert page.get_by_label("The new admin key").count() == 0 and new_key not in page.content()
    assert page.locator("tbody tr", has_text="ci bot").count() == 1

    messages: list[str] = []

    def answer(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.get_by_role("button", name="Revoke and sign out").click()
    page.wait_for_url("**/console/sign-in")
    assert messages and "signed out" in messages[0]
    page.goto(f"{console_server.url}/console/accounts/browser-keys-page/keys")
    page.wait_for_url("**/console/sign-in?next=*")
