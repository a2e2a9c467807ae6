"""The installation pages in real Chromium: the editor checks as one types, installing lands on the new app's page,
a reviewed edit is saved, and one tenant cannot open another's installation by URL."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx

from tests.conftest import SEED
from tests.console.conftest import ConsoleServer, Tenant, browser_sign_in

CONTENT = "ms.MessagingEventNotification.ContentEvent"
ENDPOINT_POINTER = f"/capabilities/webhooks/{CONTENT}/endpoint"
API = "{url}/api/account/{account}/configuration/app-install/installations"


def install_by_api(server: ConsoleServer, tenant: Tenant) -> dict[str, Any]:
    answer = httpx.post(
        API.format(url=server.url, account=tenant.account_id),
        json=SEED,
        headers={"Authorization": f"Bearer {tenant.key}"},
    )
    assert answer.status_code == 201, answer.text
    installed: dict[str, Any] = answer.json()
    return installed


def signed_in(page: Any, server: ConsoleServer, account_id: str) -> Tenant:
    tenant = server.tenant(account_id)
    browser_sign_in(page, server.url, tenant.key)
    page.wait_for_url("**/installations")
    return tenant


def test_installing_shows_a_problem_at_its_pointer_while_typing_until_it_is_fixed(
    console_server: ConsoleServer, page: Any
) -> None:
    signed_in(page, console_server, "browser-install")
    page.get_by_role("link", name="Install an app").click()
    page.wait_for_url("**/installations/new")
    broken = copy.deepcopy(SEED)
    broken["capabilities"]["webhooks"][CONTENT]["endpoint"] = "not a url"
    editor = page.get_by_label("Manifest (JSON)")
    editor.fill(json.dumps(broken, indent=2))
    problem = page.locator(f'#manifest-problems li.is-error[data-pointer="{ENDPOINT_POINTER}"]')
    problem.wait_for()
    assert ENDPOINT_POINTER in problem.inner_text()
    assert editor.get_attribute("aria-invalid") == "true"
    assert page.locator("#manifest-check").get_attribute("aria-live") == "polite"

    problem.get_by_role("button").click()  # puts the cursor at the problem
    selected = page.evaluate(
        "(() => { const e = document.getElementById('manifest'); "
        "return e.value.slice(e.selectionStart, e.selectionEnd); })()"
    )
    assert selected == '"endpoint"'

    editor.fill(json.dumps(SEED, indent=2))
    problem.wait_for(state="detached")
    page.get_by_text("Valid").wait_for()
    assert page.locator("#manifest-problems li.is-error").count() == 0
    assert editor.get_attribute("aria-invalid") is None

    page.get_by_role("button", name="Install").click()
    page.wait_for_url(re.compile(r".*/installations/[0-9a-f-]{36}$"))  # the address of the new installation
    assert page.get_by_role("heading", name="App name").is_visible()
    secret = page.get_by_role("textbox", name="Client secret").input_value()
    assert len(secret) > 20
    page.reload()  # a GET of the installation's page: the secret is not shown again
    assert page.get_by_role("heading", name="App name").is_visible()
    assert secret not in page.content()


def test_a_manifest_file_is_read_into_the_editor_and_checked(console_server: ConsoleServer, page: Any) -> None:
    signed_in(page, console_server, "browser-file")
    page.goto(f"{console_server.url}/console/accounts/browser-file/installations/new")
    page.get_by_label("Read a manifest file").set_input_files(
        files=[{"name": "manifest.json", "mimeType": "application/json", "buffer": b'{"client_name": 5}'}]
    )
    page.locator('#manifest-problems li.is-error[data-pointer="/client_name"]').wait_for()
    assert page.get_by_label("Manifest (JSON)").input_value() == '{"client_name": 5}'


def test_an_edit_is_reviewed_then_saved(console_server: ConsoleServer, page: Any) -> None:
    tenant = signed_in(page, console_server, "browser-edit")
    installed = install_by_api(console_server, tenant)
    page.goto(f"{console_server.url}/console/accounts/browser-edit/installations/{installed['id']}")
    editor = page.get_by_label("Manifest (JSON)")
    editor.fill(editor.input_value().replace('"App description"', '"Reviewed in the console"'))
    page.get_by_role("button", name="Review changes").click()
    review = page.get_by_role("region", name="Review changes")
    assert "/description" in review.inner_text() and "Reviewed in the console" in review.inner_text()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    read = httpx.get(
        API.format(url=console_server.url, account="browser-edit") + f"/{installed['id']}",
        headers={"Authorization": f"Bearer {tenant.key}"},
    )
    assert read.json()["description"] == "Reviewed in the console"


def test_a_tenant_cannot_open_another_tenants_installation_by_url(console_server: ConsoleServer, page: Any) -> None:
    theirs = console_server.tenant("browser-their-apps")
    installed = install_by_api(console_server, theirs)
    signed_in(page, console_server, "browser-my-apps")
    for account in ("browser-my-apps", "browser-their-apps"):
        answer = page.goto(f"{console_server.url}/console/accounts/{account}/installations/{installed['id']}")
        assert answer is not None and answer.status == 404
        assert page.get_by_role("heading", name="Not found").is_visible()
        assert "App name" not in page.content()
