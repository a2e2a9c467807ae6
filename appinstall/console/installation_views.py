"""Installations in the console: the account's list (its detail, editor and actions come with their own pages)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appinstall.console.deps import AccountDep
from appinstall.console.pages import PREFIX, ConsoleRoute, render
from appinstall.registry import listing
from appinstall.registry.models import InstallationFilter
from appinstall.webhooks import service as webhooks

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

INSTALLATIONS = PREFIX + "/accounts/{account_id}/installations"
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
                "name": installation.manifest.get("client_name") or installation.id,
                "event_types": installation.routes.event_types,
                "disabled": [entry.event_type for entry in health if not entry.enabled],
                "failing": [entry.event_type for entry in health if entry.enabled and entry.consecutive_failures],
            }
        )
    return render(request, "installations.html", account=account, rows=rows, more=page.next_cursor is not None)
