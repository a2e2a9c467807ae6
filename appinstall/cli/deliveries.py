"""``appinstall deliveries list/retry/recover``: see what was sent to an installation's webhooks, and repair it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appinstall.cli.installations import (
    DEFAULT_SERVER,
    AccountOption,
    FormatOption,
    IdArgument,
    KeyOption,
    ServerOption,
    registry_session,
)
from appinstall.cli.manifest import OutputFormat
from appinstall.cli.times import utc_time

deliveries_app = typer.Typer(
    help="Webhook deliveries of an installation: list, retry, recover; webhook health.", no_args_is_help=True
)

SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="Only from this time: ms since the epoch or RFC 3339 (2026-11-25T12:00:00Z)."),
]


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return ""
    return utc_time(ms)


@deliveries_app.command("list")
def list_deliveries(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
    status: Annotated[
        str | None, typer.Option(help="blocked, pending, in_flight, succeeded or failed.", show_default=False)
    ] = None,
    event_type: Annotated[str | None, typer.Option(help="A subscription key.", show_default=False)] = None,
    conversation: Annotated[str | None, typer.Option(help="A conversation id.", show_default=False)] = None,
    since: SinceOption = None,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 50,
) -> None:
    """The newest deliveries of an installation, with their last outcome."""
    params = {"limit": str(limit)}
    for name, value in (("status", status), ("event_type", event_type), ("conversation_id", conversation)):
        if value is not None:
            params[name] = value
    if since is not None:
        params["since"] = since
    with registry_session(server, key, account) as registry:
        page = registry.deliveries(installation_id, params)
    items = page.get("items", [])
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    if not items:
        typer.echo("no deliveries")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("id", "created (UTC)", "event", "conversation", "status", "tries", "last"):
        table.add_column(column, overflow="fold")
    for item in items:
        last = str(item.get("last_status_code") or item.get("last_error") or "")
        table.add_row(
            *(
                escape(cell)
                for cell in (
                    str(item.get("id")),
                    _time(item.get("created_at")),
                    str(item.get("event_type", "")).rsplit(".", 1)[-1],
                    str(item.get("conversation_id") or ""),
                    str(item.get("status")),
                    str(item.get("attempts")),
                    last[:60],
                )
            )
        )
    Console(highlight=False, width=200 if not Console().is_terminal else None).print(table)


@deliveries_app.command("retry")
def retry(
    installation_id: IdArgument,
    delivery_id: Annotated[str, typer.Argument(metavar="DELIVERY", help="The delivery's id (msg_…).")],
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Send a finished delivery again, with the same webhook-id."""
    with registry_session(server, key, account) as registry:
        delivery = registry.retry_delivery(installation_id, delivery_id)
    typer.echo(f"queued {delivery.get('id')} again ({delivery.get('status')})")


@deliveries_app.command("recover")
def recover(
    installation_id: IdArgument,
    since: Annotated[str, typer.Option("--since", help="ms since the epoch or RFC 3339 (2026-11-25T12:00:00Z).")],
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Queue again every delivery of the installation that failed since a time."""
    with registry_session(server, key, account) as registry:
        count = registry.recover_deliveries(installation_id, since)
    typer.echo(f"queued {count} failed deliver{'y' if count == 1 else 'ies'} again")


@deliveries_app.command("health")
def health(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """Each webhook's health: enabled or why disabled, unbroken failures, last success."""
    with registry_session(server, key, account) as registry:
        webhooks = registry.webhook_health(installation_id)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(webhooks, indent=2, ensure_ascii=False))
        return
    if not webhooks:
        typer.echo("no webhook has been tried yet")
        return
    for item in webhooks:
        state = "enabled" if item.get("enabled") else f"DISABLED ({item.get('disabled_reason')})"
        typer.echo(
            f"{item.get('event_type')}: {state}; {item.get('consecutive_failures')} failure(s) in a row; "
            f"last success {_time(item.get('last_success_at')) or 'never'}"
        )


@deliveries_app.command("enable")
def enable(
    installation_id: IdArgument,
    event_type: Annotated[str, typer.Argument(metavar="EVENT_TYPE", help="The subscription key of the webhook.")],
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Re-enable a webhook disabled by 410 Gone or by failing too long (then recover what failed meanwhile)."""
    with registry_session(server, key, account) as registry:
        registry.enable_webhook(installation_id, event_type)
    typer.echo(f"{event_type} is enabled again; queue what failed meanwhile with 'appinstall deliveries recover'")
