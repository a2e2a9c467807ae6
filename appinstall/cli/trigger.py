"""``appinstall trigger``: publish one realistic notification of a type to a running server, like ``stripe trigger``.

A connector author can then watch their receiver (or ``appinstall listen``) handle each of the five kinds without
holding a conversation in the sandbox. The notification goes through the same publish path as any other, so it
is stored, signed, retried and logged as a real one; ``--installation`` keeps the other apps of the account out.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Final

import typer

from appinstall.cli.installations import (
    DEFAULT_SERVER,
    AccountOption,
    FormatOption,
    KeyOption,
    ServerOption,
    registry_session,
)
from appinstall.cli.manifest import USAGE_ERROR, OutputFormat
from appinstall.cli.remote import resolve_installation
from appinstall.manifest.vocabulary import CONTENT_EVENT, EVENT_TYPES, event_type_named, short_event_name
from appinstall.sandbox.samples import sample_notification

FAILURE = 1
# "ContentEvent, RichContentEvent, … or ExConversationChangeNotification"
_SHORT_NAMES: Final = (
    f"{', '.join(short_event_name(name) for name in EVENT_TYPES[:-1])} or {short_event_name(EVENT_TYPES[-1])}"
)


def trigger(
    event_type: Annotated[
        str,
        typer.Argument(
            metavar="EVENT_TYPE",
            help=f"{_SHORT_NAMES} (or the full name).",
            show_default=False,
        ),
    ],
    installation: Annotated[
        str | None,
        typer.Option(
            "--installation",
            "-i",
            metavar="ID|NAME",
            help="Only this installation (its id, client_id or client_name); by default every subscribed one.",
            show_default=False,
        ),
    ] = None,
    conversation: Annotated[
        str | None,
        typer.Option(
            "--conversation", metavar="ID", help="The conversation; by default a new one.", show_default=False
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option("--text", help="What the agent says in a ContentEvent.", show_default=False),
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """Publish one sample notification of EVENT_TYPE to the account's subscribed installations; print the deliveries."""
    full = event_type_named(event_type)
    if full is None:
        names = ", ".join(short_event_name(name) for name in EVENT_TYPES)
        typer.echo(f"error: {event_type!r} is not an event type; use one of {names}", err=True)
        raise typer.Exit(USAGE_ERROR)
    if text is not None and full != CONTENT_EVENT:
        typer.echo(f"error: --text is for ContentEvent; a {short_event_name(full)} has no text to set", err=True)
        raise typer.Exit(USAGE_ERROR)
    conversation_id = conversation or str(uuid.uuid4())
    options = {} if text is None else {"text": text}
    with registry_session(server, key, account) as registry:
        assert account is not None  # registry_session refuses to start without one
        document = sample_notification(
            full, conversation_id=conversation_id, account_id=account, at=time.time_ns() // 1_000_000, **options
        )
        target = None if installation is None else resolve_installation(registry, installation)
        created = registry.publish(document, target)
    if output_format is OutputFormat.json:
        typer.echo(json.dumps(created, indent=2, ensure_ascii=False))
    else:
        for delivery in created:
            typer.echo(f"{delivery.get('id')} {delivery.get('status')} to {delivery.get('installation_id')}")
    if not created:
        short = short_event_name(full)
        who = (
            f"installation {installation} is disabled or does not subscribe to {short}"
            if installation
            else f"no enabled installation of account {account} subscribes to {short}"
        )
        typer.echo(f"error: no delivery: {who}; subscribe in the manifest's capabilities.webhooks", err=True)
        raise typer.Exit(FAILURE)
    noun = "delivery" if len(created) == 1 else "deliveries"
    typer.echo(
        f"published a {short_event_name(full)} in conversation {conversation_id}: {len(created)} {noun}", err=True
    )
