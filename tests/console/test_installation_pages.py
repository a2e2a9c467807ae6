"""The installation pages over HTTP: reading one, checking and reviewing an edit, saving it, its actions, installing.

Every change goes through a form with the session's CSRF token, as a browser would send it; what the pages did is
read back through the API, so a page that only claims success fails here.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import pytest

from tests.conftest import SEED
from tests.console.conftest import Tenant, csrf_of, make_tenant, sign_in

pytestmark = pytest.mark.anyio

FROM_CONSOLE = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}
API = "/api/account/{account}/configuration/app-install/installations"


def console_url(tenant: Tenant, suffix: str = "") -> str:
    return f"/console/accounts/{tenant.account_id}/installations{suffix}"


async def install_by_api(client: httpx.AsyncClient, tenant: Tenant, manifest: dict[str, Any] = SEED) -> dict[str, Any]:
    answer = await client.post(
        API.format(account=tenant.account_id), json=manifest, headers={"Authorization": f"Bearer {tenant.key}"}
    )
    assert answer.status_code == 201, answer.text
    installed: dict[str, Any] = answer.json()
    return installed


async def read_by_api(client: httpx.AsyncClient, tenant: Tenant, installation_id: str) -> httpx.Response:
    url = API.format(account=tenant.account_id) + f"/{installation_id}"
    return await client.get(url, headers={"Authorization": f"Bearer {tenant.key}"})


async def post_form(client: httpx.AsyncClient, url: str, page: str, fields: dict[str, str]) -> httpx.Response:
    """Post ``fields`` as the console's form on ``page`` does: with the session's CSRF token, from this origin."""
    return await client.post(url, data={"csrf_token": csrf_of(page), **fields}, headers=FROM_CONSOLE)


def editor_text(page: str) -> str:
    found = re.search(r'<textarea id="manifest"[^>]*>(.*?)</textarea>', page, re.DOTALL)
    assert found, "the page has no manifest editor"
    return found.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&")


@pytest.fixture
async def signed_in(browserless: httpx.AsyncClient, tenant: Tenant) -> Tenant:
    assert (await sign_in(browserless, tenant.key)).status_code == 303
    return tenant


@pytest.fixture
async def installed(browserless: httpx.AsyncClient, signed_in: Tenant) -> dict[str, Any]:
    return await install_by_api(browserless, signed_in)


# --- Reading ----------------------------------------------------------------------------------------------------


async def test_the_installation_page_shows_its_facts_and_its_manifest_without_server_fields(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    assert page.status_code == 200
    assert "App name" in page.text and installed["id"] in page.text and "enabled" in page.text
    assert "ms.MessagingEventNotification.ContentEvent" in page.text
    assert f"/console/accounts/acme/deliveries?installation={installed['id']}" in page.text
    manifest = json.loads(editor_text(page.text))
    assert manifest["client_name"] == "App name"
    assert not {"id", "client_id", "client_secret", "enabled"} & manifest.keys()
    assert installed["client_secret"] not in page.text
    assert "VALUE" not in editor_text(page.text)  # header values are masked, as the API masks them


async def test_the_list_links_to_installing_and_to_each_installation(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in))
    assert console_url(signed_in, "/new") in page.text
    assert console_url(signed_in, f"/{installed['id']}") in page.text


async def test_another_tenants_installation_is_not_found_under_either_account_path(
    browserless: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    other = await make_tenant(browserless, "globex")
    browserless.cookies.clear()  # sign in afresh, as the other tenant
    assert (await sign_in(browserless, other.key)).status_code == 303
    missing = await browserless.get("/console/accounts/globex/installations/00000000-0000-4000-8000-000000000000")
    under_mine = await browserless.get(f"/console/accounts/globex/installations/{installed['id']}")
    under_theirs = await browserless.get(f"/console/accounts/acme/installations/{installed['id']}")
    assert missing.status_code == under_mine.status_code == under_theirs.status_code == 404
    assert "App name" not in under_mine.text + under_theirs.text
    edit = await browserless.get("/console/accounts/globex/installations")
    refused = await post_form(
        browserless, f"/console/accounts/globex/installations/{installed['id']}/enabled", edit.text, {"revision": "1"}
    )
    assert refused.status_code == 404


@pytest.mark.parametrize("installation_id", ["not-a-uuid", "x" * 300, "%20", "..%2F..%2Fsecret"])
async def test_odd_installation_ids_are_not_found_pages(
    browserless: httpx.AsyncClient, signed_in: Tenant, installation_id: str
) -> None:
    assert (await browserless.get(console_url(signed_in, f"/{installation_id}"))).status_code in (400, 404)


# --- Checking as you type ---------------------------------------------------------------------------------------


async def test_the_check_endpoint_returns_the_validators_problems_at_their_pointers(
    browserless: httpx.AsyncClient, signed_in: Tenant
) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    broken = copy.deepcopy(SEED)
    del broken["client_name"]
    broken["capabilities"]["webhooks"]["ms.MessagingEventNotification.ContentEvent"]["endpoint"] = "ftp://nowhere"
    answer = await browserless.post(
        "/console/accounts/acme/manifests/check",
        json={"manifest": json.dumps(broken)},
        headers={"X-CSRF-Token": csrf_of(page.text), **FROM_CONSOLE},
    )
    assert answer.status_code == 200
    errors = {problem["pointer"]: problem for problem in answer.json()["errors"]}
    assert answer.json()["valid"] is False
    assert "/client_name" in errors
    assert "/capabilities/webhooks/ms.MessagingEventNotification.ContentEvent/endpoint" in errors
    assert all(problem["message"] for problem in errors.values())


async def test_text_that_is_not_json_gets_the_line_and_column_where_reading_stopped(
    browserless: httpx.AsyncClient, signed_in: Tenant
) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    answer = await browserless.post(
        "/console/accounts/acme/manifests/check",
        json={"manifest": '{\n  "client_name": "x",\n  oops\n}'},
        headers={"X-CSRF-Token": csrf_of(page.text), **FROM_CONSOLE},
    )
    [problem] = answer.json()["errors"]
    assert (problem["code"], problem["line"], problem["column"]) == ("invalid_json", 3, 3)


async def test_a_valid_manifest_checks_valid(browserless: httpx.AsyncClient, signed_in: Tenant) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    answer = await browserless.post(
        "/console/accounts/acme/manifests/check",
        json={"manifest": json.dumps(SEED)},
        headers={"X-CSRF-Token": csrf_of(page.text), **FROM_CONSOLE},
    )
    assert answer.json()["valid"] is True and answer.json()["errors"] == []


async def test_the_check_endpoint_refuses_a_request_without_the_csrf_header(
    browserless: httpx.AsyncClient, signed_in: Tenant
) -> None:
    answer = await browserless.post(
        "/console/accounts/acme/manifests/check", json={"manifest": "{}"}, headers=FROM_CONSOLE
    )
    assert answer.status_code == 403


# --- Review and save -----------------------------------------------------------------------------------------


async def test_reviewing_the_unchanged_manifest_shows_no_changes(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    fields = {"manifest": editor_text(page.text), "revision": "1"}
    review = await post_form(browserless, console_url(signed_in, f"/{installed['id']}/review"), page.text, fields)
    assert review.status_code == 200
    assert "No changes" in review.text


async def test_reviewing_an_edit_lists_what_would_change_and_saves_nothing(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    manifest = json.loads(editor_text(page.text))
    manifest["description"] = "A better description"
    fields = {"manifest": json.dumps(manifest), "revision": "1"}
    review = await post_form(browserless, console_url(signed_in, f"/{installed['id']}/review"), page.text, fields)
    assert review.status_code == 200
    assert "<code>/description</code>" in review.text and "A better description" in review.text
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["description"] == "App description"


async def test_saving_an_edit_replaces_the_manifest_and_keeps_masked_header_values(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    manifest = json.loads(editor_text(page.text))
    manifest["description"] = "A better description"
    fields = {"manifest": json.dumps(manifest), "revision": "1"}
    saved = await post_form(browserless, console_url(signed_in, f"/{installed['id']}"), page.text, fields)
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(console_url(signed_in, f"/{installed['id']}"))
    now = (await read_by_api(browserless, signed_in, installed["id"])).json()
    assert now["description"] == "A better description"
    content = now["capabilities"]["webhooks"]["ms.MessagingEventNotification.ContentEvent"]
    assert content["headers"] == [{"header_name": "NAME", "header_value": "VALUE"}]
    assert "Saved." in (await browserless.get(saved.headers["location"])).text


async def test_saving_an_invalid_manifest_shows_the_editor_with_the_problem_and_changes_nothing(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    manifest = json.loads(editor_text(page.text))
    manifest["grant_types"] = ["telepathy"]
    fields = {"manifest": json.dumps(manifest), "revision": "1"}
    saved = await post_form(browserless, console_url(signed_in, f"/{installed['id']}"), page.text, fields)
    assert saved.status_code == 400
    assert 'data-pointer="/grant_types/0"' in saved.text
    assert "telepathy" in editor_text(saved.text)  # the user's text is kept
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["grant_types"] == ["client_credentials"]


@pytest.mark.parametrize("text", ["", "{", '{"a": 1, "a": 2}', "[]", "null"])
async def test_saving_text_that_is_no_manifest_is_a_400_page(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any], text: str
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    fields = {"manifest": text, "revision": "1"}
    for suffix in ("", "/review"):
        answer = await post_form(browserless, console_url(signed_in, f"/{installed['id']}{suffix}"), page.text, fields)
        assert answer.status_code == 400
        assert '<li class="is-error" data-pointer=' in answer.text


async def test_saving_over_a_change_made_meanwhile_is_a_409_that_keeps_the_text(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    meanwhile = await browserless.patch(
        API.format(account="acme") + f"/{installed['id']}",
        content=json.dumps({"description": "Changed meanwhile"}),
        headers={
            "Authorization": f"Bearer {signed_in.key}",
            "If-Match": '"1"',
            "Content-Type": "application/merge-patch+json",
        },
    )
    assert meanwhile.status_code == 200, meanwhile.text
    manifest = json.loads(editor_text(page.text))
    manifest["description"] = "Mine"
    fields = {"manifest": json.dumps(manifest), "revision": "1"}
    saved = await post_form(browserless, console_url(signed_in, f"/{installed['id']}"), page.text, fields)
    assert saved.status_code == 409
    assert "changed since you read it" in saved.text
    assert json.loads(editor_text(saved.text))["description"] == "Mine"
    assert 'name="revision" value="2"' in saved.text  # a review now compares with the installation as it is
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["description"] == "Changed meanwhile"


@pytest.mark.parametrize("revision", ["", "abc", "9" * 40, "-1"])
async def test_a_save_with_an_odd_revision_is_a_409_not_a_500(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any], revision: str
) -> None:
    page = await browserless.get(console_url(signed_in, f"/{installed['id']}"))
    fields = {"manifest": editor_text(page.text), "revision": revision}
    saved = await post_form(browserless, console_url(signed_in, f"/{installed['id']}"), page.text, fields)
    assert saved.status_code == 409


# --- Actions ---------------------------------------------------------------------------------------------------


async def test_disabling_and_enabling_the_installation(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    page = await browserless.get(url)
    disabled = await post_form(browserless, url + "/enabled", page.text, {"enabled": "false", "revision": "1"})
    assert disabled.status_code == 303
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["enabled"] is False
    page = await browserless.get(url)
    assert ">Enable</button>" in page.text
    enabled = await post_form(browserless, url + "/enabled", page.text, {"enabled": "true", "revision": "2"})
    assert enabled.status_code == 303
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["enabled"] is True


async def test_disabling_from_a_stale_page_is_a_409(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    page = await browserless.get(url)
    answer = await post_form(browserless, url + "/enabled", page.text, {"enabled": "false", "revision": "7"})
    assert answer.status_code == 409
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["enabled"] is True


async def test_rotating_the_secret_shows_the_new_one_once(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    page = await browserless.get(url)
    rotated = await post_form(browserless, url + "/secret", page.text, {})
    assert rotated.status_code == 200
    secret = (await read_by_api(browserless, signed_in, installed["id"])).json()["client_secret"]
    assert secret != installed["client_secret"]
    assert f'value="{secret}"' in rotated.text
    assert "no-store" in rotated.headers["cache-control"]
    assert secret not in rotated.headers.get("location", "") + rotated.headers.get("set-cookie", "")
    assert secret not in (await browserless.get(url)).text


async def test_deleting_asks_for_confirmation_first(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    confirm = await browserless.get(url + "/delete")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
    unconfirmed = await post_form(browserless, url + "/delete", confirm.text, {"revision": "1"})
    assert unconfirmed.status_code == 400 and 'name="confirm"' in unconfirmed.text
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["deleted"] is False


async def test_deleting_the_installation(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    confirm = await browserless.get(url + "/delete")
    deleted = await post_form(browserless, url + "/delete", confirm.text, {"revision": "1", "confirm": "yes"})
    assert deleted.status_code == 303 and deleted.headers["location"] == console_url(signed_in)
    assert (await read_by_api(browserless, signed_in, installed["id"])).json()["deleted"] is True
    assert (await browserless.get(url)).status_code == 404


@pytest.mark.parametrize("action", ["/enabled", "/secret", "/delete", "/review", ""])
async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any], action: str
) -> None:
    url = console_url(signed_in, f"/{installed['id']}")
    fields = {"enabled": "false", "revision": "1", "confirm": "yes", "manifest": "{}"}
    answer = await browserless.post(url + action, data=fields, headers=FROM_CONSOLE)
    assert answer.status_code == 403
    now = (await read_by_api(browserless, signed_in, installed["id"])).json()
    assert (now["enabled"], now["deleted"], now["client_secret"]) == (True, False, installed["client_secret"])
    assert (await read_by_api(browserless, signed_in, installed["id"])).headers["etag"] == '"1"'


# --- Installing --------------------------------------------------------------------------------------------------


async def test_installing_from_the_editor_shows_the_new_installation_and_its_secret_once(
    browserless: httpx.AsyncClient, signed_in: Tenant
) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    assert page.status_code == 200 and 'type="file"' in page.text
    made = await post_form(browserless, console_url(signed_in), page.text, {"manifest": json.dumps(SEED)})
    assert made.status_code == 201
    [listed] = (
        await browserless.get(API.format(account="acme"), headers={"Authorization": f"Bearer {signed_in.key}"})
    ).json()
    assert f'value="{listed["client_secret"]}"' in made.text
    assert f'data-canonical-url="{console_url(signed_in, "/" + listed["id"])}"' in made.text
    assert listed["client_secret"] not in (await browserless.get(console_url(signed_in, f"/{listed['id']}"))).text


async def test_installing_an_invalid_manifest_shows_its_problems_and_installs_nothing(
    browserless: httpx.AsyncClient, signed_in: Tenant
) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    broken = {key: value for key, value in SEED.items() if key != "client_name"}
    made = await post_form(browserless, console_url(signed_in), page.text, {"manifest": json.dumps(broken)})
    assert made.status_code == 400
    assert 'data-pointer="/client_name"' in made.text
    listed = await browserless.get(API.format(account="acme"), headers={"Authorization": f"Bearer {signed_in.key}"})
    assert listed.json() == []


async def test_installing_a_second_app_with_a_taken_name_is_a_409_with_the_problem(
    browserless: httpx.AsyncClient, signed_in: Tenant, installed: dict[str, Any]
) -> None:
    page = await browserless.get(console_url(signed_in, "/new"))
    made = await post_form(browserless, console_url(signed_in), page.text, {"manifest": json.dumps(SEED)})
    assert made.status_code == 409
    assert 'data-pointer="/client_name"' in made.text


async def test_installing_without_the_csrf_token_is_refused(browserless: httpx.AsyncClient, signed_in: Tenant) -> None:
    made = await browserless.post(console_url(signed_in), data={"manifest": json.dumps(SEED)}, headers=FROM_CONSOLE)
    assert made.status_code == 403
    listed = await browserless.get(API.format(account="acme"), headers={"Authorization": f"Bearer {signed_in.key}"})
    assert listed.json() == []
