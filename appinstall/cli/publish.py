"""``appinstall publish FILE``: publish many notifications from a file through the batch endpoint.

For a backlog, a replay or a load test: a JSON array of notifications, or JSON lines (one per line), ``-`` for
standard input. They go ``MAX_BATCH`` to a request (``POST …/notifications:batch``), each request all or nothing.
Every notification is first checked here with the server's own envelope rules, so a file with a bad one anywhere
publishes nothing and says which; what only the server can refuse (an unknown installation, a conversation id
over the limit) stops at the first refused batch, and the message says which notifications went in before it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, NoReturn

import typer

from appinstall.cli.installations import (
    DEFAULT_SERVER,
    AccountOption,
    FormatOption,
    KeyOption,
    ServerOption,
    registry_session,
)
from appinstall.cli.manifest import OutputFormat, read_input
from appinstall.cli.remote import RemoteError, resolve_installation
from appinstall.manifest.errors import Problem
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.webhooks.envelope import MAX_BATCH, EnvelopeError, route

FAILURE = 1


@dataclass(frozen=True)
class Notifications:
    """The documents of the input, and the line each starts on when it is JSON lines (None for an array)."""

    documents: list[Any]
    lines: list[int] | None


def _fail(lines: list[str]) -> NoReturn:
    for line in lines:
        typer.echo(line, err=True)
    raise typer.Exit(FAILURE)


def read_notifications(data: bytes, name: str) -> Notifications:
    """A JSON array, or JSON lines; exit 1 with one line per problem when the input is neither."""
    text = data.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith("["):
        try:
            documents = parse_document(data)
        except DocumentError as error:
            _fail([f"error: {name} is not valid JSON"] + [f"  {p.pointer or '/'}: {p.message}" for p in error.problems])
        return Notifications(documents, None)
    documents, lines, problems = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            documents.append(parse_document(line))
            lines.append(number)
        except DocumentError as error:
            problems += [f"  {name}:{number}: {p.pointer or '/'}: {p.message}" for p in error.problems]
    if problems:
        _fail([f"error: {name} is neither a JSON array nor JSON lines (one notification a line)", *problems])
    return Notifications(documents, lines)


def where(notifications: Notifications, index: int, pointer: str) -> str:
    """``notification 3 (line 4) at /body/changes``: a problem's place in the input."""
    line = "" if notifications.lines is None else f" (line {notifications.lines[index]})"
    return f"notification {index}{line} at {pointer or '/'}"


def envelope_problems(notifications: Notifications) -> list[str]:
    """One line per problem of every notification that is not in the platform's envelope (the server's rules)."""
    lines = []
    for index, document in enumerate(notifications.documents):
        try:
            route(document)
        except EnvelopeError as error:
            lines += [_problem_line(notifications, index, problem) for problem in error.problems]
    return lines


def _problem_line(notifications: Notifications, index: int, problem: Problem) -> str:
    return f"  {where(notifications, index, problem.pointer)}: {problem.message}"


def _refusal(notifications: Notifications, start: int, error: RemoteError) -> list[str]:
    """The server's refusal of the batch from ``start``: its problems placed in the whole input."""
    lines = [f"error: {error.detail} (HTTP {error.status})"]
    for item in error.errors:
        first, _, rest = str(item.get("pointer") or "").lstrip("/").partition("/")
        message = item.get("message", "")
        if first.isdigit():
            lines.append(f"  {where(notifications, start + int(first), '/' + rest if rest else '')}: {message}")
        else:
            lines.append(f"  {item.get('pointer') or '/'}: {message}")
    lines.append(
        f"notifications 0 to {start - 1} were published, none from {start} on"
        if start
        else "no notification was published"
    )
    return lines


def publish(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="A JSON array of notifications, or JSON lines; - for standard input.",
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
    batch_size: Annotated[
        int,
        typer.Option("--batch-size", min=1, max=MAX_BATCH, metavar="N", help="Notifications per request."),
    ] = MAX_BATCH,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """Publish every notification of FILE to the account, in batches; print each one's deliveries."""
    name = "<stdin>" if file == "-" else file
    notifications = read_notifications(read_input(file), name)
    if not notifications.documents:
        _fail([f"error: {name} holds no notification"])
    problems = envelope_problems(notifications)
    if problems:
        _fail([f"error: {name}: some notifications are not in the platform's envelope; none was published", *problems])
    documents = notifications.documents
    published: list[list[Any]] = []
    with registry_session(server, key, account) as registry:
        target = None if installation is None else resolve_installation(registry, installation)
        for start in range(0, len(documents), batch_size):
            try:
                published += registry.publish_batch(documents[start : start + batch_size], target)
            except RemoteError as error:
                _fail(_refusal(notifications, start, error))
    if output_format is OutputFormat.json:
        answer = {"notifications": [{"deliveries": deliveries} for deliveries in published]}
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        for index, deliveries in enumerate(published):
            for delivery in deliveries:
                typer.echo(
                    f"{index} {delivery.get('id')} {delivery.get('status')} to {delivery.get('installation_id')}"
                )
    batches = -(-len(documents) // batch_size)
    made = sum(len(deliveries) for deliveries in published)
    typer.echo(
        f"published {len(documents)} notification{'s' * (len(documents) != 1)} in {batches} "
        f"batch{'es' * (batches != 1)}: {made} deliver{'ies' if made != 1 else 'y'}",
        err=True,
    )
