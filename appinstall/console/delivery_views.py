"""Deliveries in the console: the account's live list, a delivery's page, retry and recover, webhook health."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from appinstall.console.deliveries_shown import installation_names, masked_headers, row_of, shown_time, status_class
from appinstall.console.delivery_filters import moment, read_filters, unfiltered
from appinstall.console.deps import AccountDep, FormDep
from appinstall.console.installation_pages import deliveries_url, installation_url, webhook_health
from appinstall.console.pages import PREFIX, ConsoleRoute, redirect, render
from appinstall.errors import Invalid
from appinstall.manifest.vocabulary import EVENT_TYPES, event_type_named, short_event_name
from appinstall.registry import listing
from appinstall.registry import service as registry
from appinstall.registry.models import InstallationFilter
from appinstall.webhooks import service as webhooks
from appinstall.webhooks.models import UNFINISHED, Status

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

ACCOUNT = PREFIX + "/accounts/{account_id}"
DELIVERIES = ACCOUNT + "/deliveries"
INSTALLATION = ACCOUNT + "/installations/{installation_id}"
DELIVERY = INSTALLATION + "/deliveries/{delivery_id}"
WEBHOOKS = INSTALLATION + "/webhooks"
PAGE_SIZE = 50
MENU_LIMIT = 500
"""The most installations the list's installation menu offers (any other is still a filter by its id)."""
HISTORY_ACTIONS = {"webhook_disabled", "webhook_enabled", "delivery_recover", "delivery_retry"}
HISTORY_SHOWN = 50


def _account_url(account: Any) -> str:
    return f"{PREFIX}/accounts/{quote(account.account_id, safe='')}"


@router.get(DELIVERIES)
async def deliveries_page(request: Request, account: AccountDep) -> Response:
    menu = await listing.search(account.store, account.account_id, InstallationFilter(), None, MENU_LIMIT)
    names = {item.id: item.display_name for item in menu.items}
    context: dict[str, Any] = {
        "account": account,
        "installations": sorted(names.items(), key=lambda pair: str(pair[1]).casefold()),
        "statuses": [status.value for status in Status],
        "event_types": [short_event_name(event) for event in EVENT_TYPES],
    }
    cursor = request.query_params.get("cursor") or None
    try:
        filters = read_filters(request.query_params)
        page = await webhooks.list_account_deliveries(
            account.store, account.account_id, filters.wanted, cursor=cursor, limit=PAGE_SIZE
        )
    except Invalid as error:
        typed = {name: request.query_params.get(name, "") for name in unfiltered().typed}
        return render(request, "deliveries.html", 400, **context, typed=typed, error=error.detail, rows=[])
    names |= await installation_names(account, {item.installation_id for item in page.items} - names.keys())
    base = _account_url(account)
    return render(
        request,
        "deliveries.html",
        **context,
        typed=filters.typed,
        rows=[row_of(item, names, base) for item in page.items],
        older=f"{base}/deliveries?{filters.query(cursor=page.older)}" if page.older else None,
        newest=f"{base}/deliveries?{filters.query()}" if cursor else None,
        live_url=None if cursor else f"{base}/deliveries/updates?{filters.query(after=page.newest)}",
    )


@router.get(DELIVERIES + "/updates")
async def deliveries_updates(request: Request, account: AccountDep) -> Response:
    """What an open page needs to stay current: deliveries after ``after`` (the list's filters applied; none
    without it, for a delivery's own page) and where the unfinished ones it shows (``watch``, repeated) stand now.
    JSON, for ``live.js``."""
    after = request.query_params.get("after", "")
    filters = read_filters(request.query_params)
    watched = await webhooks.current_states(account.store, account.account_id, request.query_params.getlist("watch"))
    rows: list[dict[str, Any]] = []
    newest = None
    if after:
        page = await webhooks.deliveries_after(
            account.store, account.account_id, filters.wanted, after, limit=PAGE_SIZE
        )
        names = await installation_names(account, {item.installation_id for item in page.items})
        rows = [row_of(item, names, _account_url(account)) for item in page.items]
        newest = page.newest
    states = [
        {
            "id": item.id,
            "status": item.status.value,
            "status_class": status_class(item.status),
            "attempts": item.attempts,
            "last_status_code": item.last_status_code,
        }
        for item in watched
    ]
    return JSONResponse({"newest": newest, "rows": rows, "states": states}, headers={"Cache-Control": "no-store"})


@router.get(DELIVERY)
async def delivery_page(request: Request, account: AccountDep, installation_id: str, delivery_id: str) -> Response:
    view = await webhooks.get_delivery(
        account.store, account.account_id, installation_id, delivery_id, mask_header_values=True
    )
    names = await installation_names(account, {installation_id})
    base = _account_url(account)
    return render(
        request,
        "delivery.html",
        account=account,
        delivery=view,
        row=row_of(view, names, base),
        body=json.dumps(view.notification, indent=2, ensure_ascii=False, sort_keys=False),
        headers=sorted(masked_headers(view.request_headers or {}).items()),
        finished=view.status not in UNFINISHED,
        watch_url=f"{base}/deliveries/updates?{urlencode({'watch': view.id})}",
        retried=request.query_params.get("retried") == "1",
        webhooks_url=f"{base}/installations/{installation_id}/webhooks",
    )


@router.post(DELIVERY + "/retry")
async def retry_delivery(account: AccountDep, form: FormDep, installation_id: str, delivery_id: str) -> Response:
    await webhooks.retry(account.store, account.account_id, installation_id, delivery_id, account.actor)
    suffix = f"/deliveries/{quote(delivery_id, safe='')}"
    return redirect(installation_url(account.account_id, installation_id, suffix, retried="1"))


@router.get(WEBHOOKS)
async def webhooks_page(request: Request, account: AccountDep, installation_id: str) -> Response:
    installation = await registry.get(account.store, account.account_id, installation_id, with_secret=False)
    state = await webhooks.delivery_state(account.store, account.account_id, installation_id)
    trail = await listing.history(account.store, account.account_id, installation_id)
    history = [event for event in reversed(trail) if event["action"] in HISTORY_ACTIONS][:HISTORY_SHOWN]
    requeued = request.query_params.get("requeued", "")
    return render(
        request,
        "webhooks.html",
        account=account,
        installation=installation,
        name=installation.display_name,
        webhooks=[
            {"event_type": event, "short": short_event_name(event), "health": health}
            for event, health in await webhook_health(account, installation)
        ],
        state=state,
        history=[{**event, "atshown_time": shown_time(event["at"])} for event in history],
        requeued=int(requeued) if requeued.isascii() and requeued.isdigit() and len(requeued) < 10 else None,
        enabled=event_type_named(request.query_params.get("enabled", "")),
        deliveries_url=deliveries_url(account.account_id, installation.id),
        short_event_name=short_event_name,
        iso=shown_time,
    )


@router.post(WEBHOOKS + "/enable")
async def enable_webhook(account: AccountDep, form: FormDep, installation_id: str) -> Response:
    event_type = event_type_named(form.get("event_type", ""))
    if event_type is None:
        raise Invalid("unknown-event-type", "choose the webhook to re-enable by its event type")
    await webhooks.enable_webhook(account.store, account.account_id, installation_id, event_type, account.actor)
    return redirect(
        installation_url(account.account_id, installation_id, "/webhooks", enabled=short_event_name(event_type))
    )


@router.post(WEBHOOKS + "/recover")
async def recover_deliveries(account: AccountDep, form: FormDep, installation_id: str) -> Response:
    since = form.get("since", "").strip()
    if not since:
        raise Invalid("invalid-time", "say since when failed deliveries should be sent again")
    count = await webhooks.recover(
        account.store, account.account_id, installation_id, moment(since, "since"), account.actor
    )
    return redirect(installation_url(account.account_id, installation_id, "/webhooks", requeued=str(count)))
