"""The buttons of an installation's page: enable or disable it, rotate its client secret, delete it.

Each is a form post through the registry's service, as the API's routes do it. Enabling and disabling expect the
revision the page was read at (a change in between is a 409 page showing the installation as it is now). A rotated
secret is shown on the page that answers the post and nowhere else: no redirect carries it, no cookie or URL holds
it, and console pages are never cached (``security.PAGE_HEADERS``). Deleting asks first, on a page of its own,
so it works without the page's script too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appinstall.console.deps import AccountDep, FormDep
from appinstall.console.installation_pages import (
    INSTALLATION,
    detail_page,
    expected_from,
    installation_url,
    installations_url,
)
from appinstall.console.pages import ConsoleRoute, redirect, render
from appinstall.errors import PreconditionFailed, PreconditionRequired
from appinstall.http.deps import app_state
from appinstall.registry import service

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_CHANGED_MEANWHILE = (
    "The installation changed since this page was read; this is how it is now. Try again if you still want to."
)


@router.post(INSTALLATION + "/enabled")
async def set_enabled(request: Request, account: AccountDep, installation_id: str, form: FormDep) -> Response:
    enabled = form.get("enabled") == "true"
    try:
        await service.patch(
            account.store,
            account.account_id,
            installation_id,
            {"enabled": enabled},
            expected_from(form.get("revision", "")),
            account.actor,
            allow_local_http=app_state(request).settings.dev,
        )
    except (PreconditionFailed, PreconditionRequired):
        current = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
        return await detail_page(request, account, current, 409, refusal=_CHANGED_MEANWHILE)
    return redirect(installation_url(account.account_id, installation_id))


@router.post(INSTALLATION + "/secret")
async def rotate_secret(request: Request, account: AccountDep, installation_id: str, form: FormDep) -> Response:
    """A new client secret, shown once on this answer; the previous one keeps working for the configured grace."""
    grace = app_state(request).settings.secret_grace_seconds
    installation, grace_end = await service.rotate_secret(
        account.store, account.account_id, installation_id, grace, account.actor
    )
    return await detail_page(
        request, account, installation, new_secret=installation.client_secret, previous_valid_until=grace_end
    )


@router.get(INSTALLATION + "/delete")
async def delete_page(request: Request, account: AccountDep, installation_id: str) -> Response:
    installation = await service.get(
        account.store, account.account_id, installation_id, include_deleted=False, with_secret=False
    )
    return render(
        request,
        "installation_delete.html",
        account=account,
        installation=installation,
        name=installation.display_name,
    )


@router.post(INSTALLATION + "/delete")
async def delete(request: Request, account: AccountDep, installation_id: str, form: FormDep) -> Response:
    """Soft-delete the installation, once the form says it is meant (its checkbox); otherwise ask on a page."""
    if form.get("confirm") != "yes":
        page = await delete_page(request, account, installation_id)
        page.status_code = 400
        return page
    revision = form.get("revision", "")
    expected = expected_from(revision) if revision else None
    try:
        await service.remove(account.store, account.account_id, installation_id, expected, account.actor)
    except PreconditionFailed:
        current = await service.get(account.store, account.account_id, installation_id, include_deleted=False)
        return await detail_page(request, account, current, 409, refusal=_CHANGED_MEANWHILE)
    return redirect(installations_url(account.account_id))
