"""``appinstall init``: a starter manifest, from two questions or from flags, that validates as written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Final

import typer
from rich.console import Console

from appinstall.cli.manifest import USAGE_ERROR, print_problems
from appinstall.manifest import validate_document
from appinstall.manifest.schema import SCHEMA_ID
from appinstall.manifest.vocabulary import EVENT_TYPES, event_type_named, short_event_name

FAILURE: Final = 1
DEFAULT_EVENTS: Final = ("ContentEvent",)
STARTER_MAX_RETRIES: Final = 3


def starter_manifest(name: str, endpoint: str, event_types: list[str], retention: int | None) -> dict[str, Any]:
    """The manifest ``init`` writes: the app's name and one webhook per event type, all to ``endpoint``.

    ``event_types`` are full names. With ``retention`` the webhooks retry for that many seconds (the platform's
    newer policy, which replaces the count); without, each retries 3 times, so the knob is there to be seen.
    ``$schema`` lets an editor complete and check keys as the file is edited.
    """
    webhook: dict[str, Any] = {"endpoint": endpoint}
    if retention is None:
        webhook["max_retries"] = STARTER_MAX_RETRIES
    webhooks: dict[str, Any] = {event: dict(webhook) for event in event_types}
    if retention is not None:
        webhooks["retry"] = {"retention_time": retention}
    return {"$schema": SCHEMA_ID, "client_name": name, "capabilities": {"webhooks": webhooks}}


def _full_event_types(names: list[str]) -> list[str]:
    """Full event types for names given short or full, in order, once each; exit 2 naming the five otherwise."""
    found: list[str] = []
    for name in names:
        full = event_type_named(name)
        if full is None:
            known = ", ".join(short_event_name(event) for event in EVENT_TYPES)
            typer.echo(f"error: --event: {name!r} is not an event type; use one of {known}", err=True)
            raise typer.Exit(USAGE_ERROR)
        if full not in found:
            found.append(full)
    return found


def init(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="Where to write the manifest.")] = Path("manifest.json"),
    name: Annotated[
        str | None,
        typer.Option(
            "--name", metavar="NAME", help="The app's client_name (asked when not given).", show_default=False
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(
            "--endpoint",
            metavar="URL",
            help="The https:// URL of your webhooks (asked when not given).",
            show_default=False,
        ),
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            metavar="EVENT",
            help="An event type to subscribe to, short (ContentEvent) or full; repeat for more "
            "[default: ContentEvent].",
            show_default=False,
        ),
    ] = None,
    retention: Annotated[
        int | None,
        typer.Option(
            "--retention",
            metavar="SECONDS",
            help="Retry failed deliveries for this long (2 to 259200) instead of 3 times.",
            show_default=False,
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite PATH if it exists.")] = False,
) -> None:
    """Write a starter manifest: asks for the app's name and webhook endpoint unless given as flags."""
    if path.exists() and not force:
        typer.echo(f"error: {path} already exists; pass --force to overwrite it", err=True)
        raise typer.Exit(FAILURE)
    event_types = _full_event_types(events or list(DEFAULT_EVENTS))
    if name is None:
        name = typer.prompt("App name")
    if endpoint is None:
        endpoint = typer.prompt("Webhook endpoint (https://…)")
    document = starter_manifest(name, endpoint, event_types, retention)
    # Checked as `appinstall install` checks it; the server decides about http:// to this machine (--dev).
    result = validate_document(document, allow_local_http=True)
    if not result.valid:
        print_problems(Console(stderr=True, highlight=False), str(path), result)
        raise typer.Exit(FAILURE)
    try:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        typer.echo(f"error: cannot write {path}: {error.strerror or error}", err=True)
        raise typer.Exit(FAILURE) from None
    subscribed = ", ".join(short_event_name(event) for event in event_types)
    typer.echo(f"wrote {path}: {name}, webhooks for {subscribed} to {endpoint}")
    if validate_document(document).valid:
        typer.echo(f"next: appinstall validate {path}, then appinstall apply {path}")
    else:  # plain http to this machine: only a development server takes it
        typer.echo(f"next: appinstall validate --dev {path}, then appinstall apply {path} (to a server run with --dev)")
