"""One installation's page, as every installation view renders it: its facts, its webhooks' health, its actions
and the manifest editor (with the editor's text, problems or reviewed changes of the request that renders it)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request, Response

from appinstall.console.deps import ConsoleAccount
from appinstall.console.manifest_editor import editor_text
from appinstall.console.pages import PREFIX, render
from appinstall.registry.models import Installation
from appinstall.registry.revisions import ExpectedRevision
from appinstall.webhooks import service as webhooks
from appinstall.webhooks.models import WebhookHealthView

INSTALLATIONS = PREFIX + "/accounts/{account_id}/installations"
INSTALLATION = INSTALLATIONS + "/{installation_id}"

_MAX_REVISION_DIGITS = 18


def installations_url(account_id: str) -> str:
    return f"{PREFIX}/accounts/{quote(account_id, safe='')}/installations"


def installation_url(account_id: str, installation_id: str, suffix: str = "", **query: str) -> str:
    url = f"{installations_url(account_id)}/{quote(installation_id, safe='')}{suffix}"
    return f"{url}?{urlencode(query)}" if query else url


def deliveries_url(account_id: str, installation_id: str) -> str:
    """The account's delivery list, filtered to one installation."""
    return f"{PREFIX}/accounts/{quote(account_id, safe='')}/deliveries?" + urlencode({"installation": installation_id})


async def webhook_health(
    account: ConsoleAccount, installation: Installation
) -> list[tuple[str, WebhookHealthView | None]]:
    """Each webhook and its health: every type the installation subscribes to, tried or not (health exists once a
    webhook was tried, else None), then any tried that it no longer subscribes to."""
    entries = await webhooks.health(account.store, account.account_id, installation.id)
    tried = {entry.event_type: entry for entry in entries}
    health = [(event_type, tried.pop(event_type, None)) for event_type in installation.routes.event_types]
    return health + sorted(tried.items())


def expected_from(revision: str) -> ExpectedRevision:
    """The revision a form says its page was read at; one that is not a revision matches none (a 409, not a 500)."""
    if revision.isascii() and revision.isdigit() and len(revision) <= _MAX_REVISION_DIGITS:
        return ExpectedRevision(frozenset({int(revision)}))
    return ExpectedRevision(frozenset())


async def detail_page(
    request: Request,
    account: ConsoleAccount,
    installation: Installation,
    status: int = 200,
    *,
    text: str | None = None,
    revision: str | None = None,
    **extra: Any,
) -> Response:
    """The installation's page. ``text`` and ``revision`` default to the installation as stored (a fresh read);
    ``extra`` is what the request adds: ``problems``, ``changes``, ``new_secret``, a ``refusal``…"""
    return render(
        request,
        "installation.html",
        status,
        account=account,
        installation=installation,
        name=installation.display_name,
        health=await webhook_health(account, installation),
        url=installation_url(account.account_id, installation.id),
        deliveries_url=deliveries_url(account.account_id, installation.id),
        text=editor_text(installation) if text is None else text,
        revision=str(installation.revision) if revision is None else revision,
        saved=request.query_params.get("saved") == "1" and request.method == "GET",
        **extra,
    )
