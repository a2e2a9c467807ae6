"""``appinstall deliveries list/show/retry/recover``: see what was sent to an installation's webhooks, and repair it."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Final

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appinstall.cli.confirm import YesOption, confirm
from appinstall.cli.installations import (
    DEFAULT_SERVER,
    AccountOption,
    FormatOption,
    IdArgument,
    KeyOption,
    ServerOption,
    installation_label,
    registry_session,
)
from appinstall.cli.manifest import USAGE_ERROR, OutputFormat
from appinstall.cli.remote import resolve_installation
from appinstall.cli.times import MomentError, parse_moment, utc_time

deliveries_app = typer.Typer(
    help="Webhook deliveries of an installation: list, show, retry, recover; webhook health.", no_args_is_help=True
)

_TIME_HELP: Final = "30s, 10m, 2h or 1d ago, ms since the epoch, or RFC 3339 (2026-11-25T12:00:00Z)"
SinceOption = Annotated[
    str | None, typer.Option("--since", metavar="TIME", help=f"Only from this time: {_TIME_HELP}.", show_default=False)
]
UntilOption = Annotated[
    str | None, typer.Option("--until", metavar="TIME", help=f"Only until this time: {_TIME_HELP}.", show_default=False)
]
DeliveryArgument = Annotated[str, typer.Argument(metavar="DELIVERY", help="The delivery's id (msg_…).")]
_EXCERPT_CHARS: Final = 200


def _time(ms: Any) -> str:
    if not isinstance(ms, int):
        return ""
    return utc_time(ms)


def _moment(value: str, option: str) -> int:
    """The time an option names, in ms; one line and exit 2 when it names none."""
    try:
        return parse_moment(value, int(time.time() * 1000))
    except MomentError as error:
        typer.echo(f"error: {option}: {error}", err=True)
        raise typer.Exit(USAGE_ERROR) from None


def _short(event_type: Any) -> str:
    return str(event_type or "").rsplit(".", 1)[-1]


@deliveries_app.command("list")
def list_deliveries(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
    status: Annotated[
        str | None, typer.Option(help="blocked, held, pending, in_flight, succeeded or failed.", show_default=False)
    ] = None,
    event_type: Annotated[
        str | None,
        typer.Option(
            metavar="EVENT", help="An event type, short (ContentEvent) or full; any case.", show_default=False
        ),
    ] = None,
    conversation: Annotated[
        str | None, typer.Option(metavar="ID", help="A conversation id.", show_default=False)
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    limit: Annotated[int, typer.Option(metavar="N", min=1, max=200, help="How many, newest first.")] = 50,
) -> None:
    """The newest deliveries of an installation, with their last outcome."""
    params = {"limit": str(limit)}
    for name, value in (("status", status), ("event_type", event_type), ("conversation_id", conversation)):
        if value is not None:
            params[name] = value
    for name, moment in (("since", since), ("until", until)):
        if moment is not None:
            params[name] = str(_moment(moment, f"--{name}"))
    with registry_session(server, key, account) as registry:
        page = registry.deliveries(resolve_installation(registry, installation_id), params)
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
                    _short(item.get("event_type")),
                    str(item.get("conversation_id") or ""),
                    str(item.get("status")),
                    str(item.get("attempts")),
                    last[:60],
                )
            )
        )
    Console(highlight=False, width=200 if not Console().is_terminal else None).print(table)


def _one_line(text: str, limit: int = _EXCERPT_CHARS) -> str:
    """Text from the endpoint, safe for a terminal: one line, no control characters (no escape sequences), cut."""
    flat = "".join(char if char.isprintable() else " " for char in " ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _print_delivery(delivery: dict[str, Any]) -> None:
    next_attempt = _time(delivery.get("next_attempt_at"))
    lines = [
        ("delivery", str(delivery.get("id"))),
        ("status", str(delivery.get("status")) + (f" (next attempt {next_attempt} UTC)" if next_attempt else "")),
        ("event", _short(delivery.get("event_type"))),
        ("conversation", str(delivery.get("conversation_id") or "-")),
        ("installation", str(delivery.get("installation_id"))),
        ("created", f"{_time(delivery.get('created_at'))} UTC"),
        ("updated", f"{_time(delivery.get('updated_at'))} UTC"),
    ]
    for label, value in lines:
        typer.echo(f"{label + ':':<14}{_one_line(value)}")
    attempts = delivery.get("attempt_log") or []
    typer.echo(f"attempts ({len(attempts)}):" if attempts else "attempts: none yet")
    for attempt in attempts:
        if not isinstance(attempt, dict):
            continue
        outcome = str(attempt.get("status_code") or "no answer")
        latency = attempt.get("latency_ms")
        typer.echo(f"  #{attempt.get('number')}  {_time(attempt.get('at'))} UTC  {outcome}  {latency} ms")
        if attempt.get("error"):
            typer.echo(f"      error: {_one_line(str(attempt['error']))}")
        if attempt.get("error_detail"):
            typer.echo(f"      detail: {_one_line(str(attempt['error_detail']))}")
        if attempt.get("response"):
            typer.echo(f"      response: {_one_line(str(attempt['response']))}")
    headers = delivery.get("request_headers")
    if isinstance(headers, dict) and headers:
        typer.echo("request headers (signatures masked):")
        for name, value in headers.items():
            typer.echo(f"  {_one_line(str(name))}: {_one_line(str(value))}")
    if delivery.get("notification") is not None:
        typer.echo("body:")
        # ASCII escapes: whatever the body holds, nothing in it reaches the terminal as a control character
        for line in json.dumps(delivery["notification"], indent=2, ensure_ascii=True).splitlines():
            typer.echo(f"  {line}")


@deliveries_app.command("show")
def show(
    installation_id: IdArgument,
    delivery_id: DeliveryArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """One delivery: status, event, conversation and times, every attempt with the endpoint's answer, the request's
    headers (signatures masked) and its body."""
    with registry_session(server, key, account) as registry:
        delivery = registry.delivery(resolve_installation(registry, installation_id), delivery_id)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(delivery, indent=2, ensure_ascii=False))
        return
    _print_delivery(delivery)


@deliveries_app.command("retry")
def retry(
    installation_id: IdArgument,
    delivery_id: DeliveryArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Send a finished delivery again, with the same webhook-id."""
    with registry_session(server, key, account) as registry:
        delivery = registry.retry_delivery(resolve_installation(registry, installation_id), delivery_id)
    typer.echo(f"queued {delivery.get('id')} again ({delivery.get('status')})")


@deliveries_app.command("recover")
def recover(
    installation_id: IdArgument,
    since: Annotated[str, typer.Option("--since", metavar="TIME", help=f"{_TIME_HELP[0].upper()}{_TIME_HELP[1:]}.")],
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    yes: YesOption = False,
) -> None:
    """Queue again every delivery of the installation that failed since a time. Asks first."""
    moment = _moment(since, "--since")
    with registry_session(server, key, account) as registry:
        found = registry.get(resolve_installation(registry, installation_id)).installation
        label = installation_label(found)
        confirm(
            "Send them again?",
            f"every delivery to {label} that failed since {utc_time(moment)} UTC is sent to its endpoint again",
            yes=yes,
        )
        count = registry.recover_deliveries(str(found["id"]), str(moment))
    typer.echo(f"queued {count} failed deliver{'y' if count == 1 else 'ies'} again")


def _state_line(state: dict[str, Any]) -> str:
    """``retry: by count …`` or ``retry: retention mode, 3600 s; state failed since … (why); 12 held``."""
    if state.get("retry_mode") != "retention":
        return "retry: by count (each webhook's max_retries)"
    line = f"retry: retention mode, {state.get('retention_time')} s; state {state.get('state')}"
    if state.get("since"):
        line += f" since {_time(state['since'])} UTC"
    if state.get("reason"):
        line += f" ({_one_line(str(state['reason']))})"
    return line + f"; {state.get('held', 0)} held"


@deliveries_app.command("health")
def health(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """How the installation retries (and, in retention mode, whether it is failing), then each webhook's health:
    enabled or why disabled, unbroken failures, last success."""
    with registry_session(server, key, account) as registry:
        resolved = resolve_installation(registry, installation_id)
        retry = registry.delivery_state(resolved)
        webhooks = registry.webhook_health(resolved)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(webhooks, indent=2, ensure_ascii=False))
        return
    typer.echo(_state_line(retry))
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
    event_type: Annotated[
        str, typer.Argument(metavar="EVENT_TYPE", help="The webhook's event type, short (ContentEvent) or full.")
    ],
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Re-enable a webhook disabled by 410 Gone or by failing too long (then recover what failed meanwhile)."""
    with registry_session(server, key, account) as registry:
        registry.enable_webhook(resolve_installation(registry, installation_id), event_type)
    typer.echo(f"{event_type} is enabled again; queue what failed meanwhile with 'appinstall deliveries recover'")
