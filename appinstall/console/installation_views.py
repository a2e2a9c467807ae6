"""Installations in the console: the account's list, one installation's page with its manifest editor, the review
of what an edit would change, saving it, and installing a new app.

An edit is saved against the revision the page was read at (``registry.service.replace`` with that revision
expected), so a change someone made in between is a 409 page that keeps the user's text, never a silent overwrite.
A manifest the validator refuses re-renders the editor with every problem at its pointer (400), never a 500. The
page's actions (enable, rotate, delete) are in ``installation_actions``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from appinstall.console.deps import AccountDep, ConsoleAccount, FormDep
from appinstall.console.installation_actions import router as actions_router
from appinstall.console.installation_pages import (
    INSTALLATION,
    INSTALLATIONS,
    detail_page,
    expected_from,
    installation_url,
)
from appinstall.console.manifest_editor import check, locate
from appinstall.console.manifest_editor import router as editor_router
from appinstall.console.pages import ConsoleRoute, redirect, render
from appinstall.errors import Conflict, Invalid, PreconditionFailed, PreconditionRequired
from appinstall.http.deps import app_state
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.registry import listing, service
from appinstall.registry.models import InstallationFilter
from appinstall.registry.plan import plan_changes
from appinstall.webhooks import service as webhooks

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
router.include_router(editor_router)
router.include_router(actions_router)

LIST_LIMIT = 500


@router.get(INSTALLATIONS)
async def installations_page(request: Request, account: AccountDep) -> Response:
    page = await listing.search(account.store, account.account_id, InstallationFilter(), None, LIST_LIMIT)
    rows = []
    for installation in page.items:
        health = await webhooks.health(account.store, account.account_id, installation.id)
        rows.append(
            {
                "installation": installation,
                "name": installation.display_name,
                "event_types": installation.routes.event_types,
                "disabled": [entry.event_type for entry in health if not entry.enabled],
                "failing": [entry.event_type for entry in health if entry.enabled and entry.consecutive_failures],
            }
        )
    return render(request, "installations.html", account=account, rows=rows, more=page.next_cursor is not None)


# --- Installing -------------------------------------------------------------------------------------------------


def _install_page(
    request: Request, account: ConsoleAccount, text: str = "", status: int = 200, **extra: Any
) -> Response:
    return render(request, "install.html", status, account=account, text=text, **extra)


@router.get(INSTALLATIONS + "/new")
async def install_page(request: Request, account: AccountDep) -> Response:
    return _install_page(request, account)


@router.post(INSTALLATIONS)
async def install(request: Request, account: AccountDep, form: FormDep) -> Response:
    """Install from the editor's text. The page answering the post shows the new client secret, once: it is in no
    URL, cookie or later page (the page's script then points the address bar at the installation's own page)."""
    text = form.get("manifest", "")
    try:
        document = parse_document(text)
        installation = await service.create(
            account.store, account.account_id, document, account.actor, allow_local_http=app_state(request).settings.dev
        )
    except DocumentError as error:
        return _install_page(request, account, text, 400, problems=locate(error.problems, text))
    except (Invalid, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 400
        problems = locate(error.problems, text)
        return _install_page(request, account, text, status, problems=problems, refusal=error.detail)
    return await detail_page(request, account, installation, 201, new_secret=installation.client_secret, created=True)


# --- One installation: read, review, save --------------------------------------------------------------------


@router.get(INSTALLATION)
async def installation_page(request: Request, account: AccountDep, installation_id: str) -> Response:
    installation = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
    return await detail_page(request, account, installation)


@router.post(INSTALLATION + "/review")
async def review(request: Request, account: AccountDep, installation_id: str, form: FormDep) -> Response:
    """What saving the editor's text would change, against the installation as it is now (``plan_changes``)."""
    installation = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
    text = form.get("manifest", "")
    revision = form.get("revision", "")
    result = check(text, dev=app_state(request).settings.dev)
    if result.manifest is None:
        problems = locate(result.errors, text)
        return await detail_page(request, account, installation, 400, text=text, revision=revision, problems=problems)
    changes = plan_changes(installation.to_wire(show_secret=False), result.manifest.to_document())
    return await detail_page(
        request, account, installation, text=text, revision=revision, changes=changes, reviewed=True
    )


@router.post(INSTALLATION)
async def save(request: Request, account: AccountDep, installation_id: str, form: FormDep) -> Response:
    """Replace the manifest with the reviewed text, if the installation is still at the revision that was read."""
    text = form.get("manifest", "")
    revision = form.get("revision", "")
    try:
        document = parse_document(text)
        await service.replace(
            account.store,
            account.account_id,
            installation_id,
            document,
            expected_from(revision),
            account.actor,
            allow_local_http=app_state(request).settings.dev,
        )
    except DocumentError as error:
        return await _refused(request, account, installation_id, text, revision, 400, error.problems)
    except (PreconditionFailed, PreconditionRequired):
        # Someone changed it since this page was read: keep the user's text, offer to review it against now.
        current = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
        return await detail_page(
            request, account, current, 409, text=text, revision=str(current.revision), stale_revision=revision
        )
    except (Invalid, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 400
        return await _refused(request, account, installation_id, text, revision, status, error.problems, error.detail)
    return redirect(installation_url(account.account_id, installation_id, saved="1"))


async def _refused(
    request: Request,
    account: ConsoleAccount,
    installation_id: str,
    text: str,
    revision: str,
    status: int,
    problems: list[Any],
    refusal: str | None = None,
) -> Response:
    installation = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
    return await detail_page(
        request,
        account,
        installation,
        status,
        text=text,
        revision=revision,
        problems=locate(problems, text),
        refusal=refusal,
    )
