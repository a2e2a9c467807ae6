"""``appinstall listen``: a local webhook receiver that verifies and prints what arrives, like ``stripe listen``.

It lets a connector author see the notifications an installation gets before writing a receiver, and try the
delivery engine's retries (``--status 503``) and a bad secret (401) against something real. With ``--forward-to``
it also passes each verified request on to the app under development and answers with the app's status
(``forward.py``). What is printed is a pure function of the notification and the answer (``describe``,
``summary``), tested without a server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Final

import typer
from aiohttp import web
from rich.console import Console
from rich.text import Text

from appinstall.cli.forward import Answer, Forwarder, describe_answer, forward_target
from appinstall.cli.signals import stop_on_signals
from appinstall.connector.receiving import (
    AcceptStatusEvent,
    ChatStateEvent,
    ContentEvent,
    ConversationChange,
    MessagingChange,
    Notification,
    RichContentEvent,
    WebhookVerificationError,
    parse,
    verify,
)
from appinstall.connector.signing import ATTEMPT_HEADER, ID_HEADER

_EVENT_WIDTH = 18  # "ConversationChange"
_ROLE_WIDTH = 14  # "ASSIGNED_AGENT"
# What the platform counts as delivered; appinstall's worker takes any 2xx, the platform only these.
DELIVERED: Final = (200, 201)
USAGE_ERROR: Final = 2


def _quoted(text: str, limit: int = 200) -> str:
    shown = json.dumps(text, ensure_ascii=False)  # quotes, and newlines as \n: one line per change
    return shown if len(shown) <= limit else shown[: limit - 2] + '…"'


def _messaging_text(change: MessagingChange) -> str:
    event = change.event
    if isinstance(event, ContentEvent):
        if isinstance(event.message, str):
            text = _quoted(event.message)
        else:
            text = "file " + _quoted(str(event.message.get("caption") or event.message.get("relativePath") or ""))
        if event.content_type and event.content_type != "text/plain":
            text += f" ({event.content_type})"
        return text
    if isinstance(event, RichContentEvent):
        return f"rich content ({event.content.get('type', '?')})"
    if isinstance(event, AcceptStatusEvent):
        return f"{event.status} sequence {', '.join(str(number) for number in event.sequence_list) or '-'}"
    if isinstance(event, ChatStateEvent):
        return event.chat_state
    return "(an event type appinstall does not know)"


def _conversation_text(change: ConversationChange) -> str:
    details = change.result.conversation_details
    if details is None:
        return change.type
    text = f"{change.type} {details.state or '?'}"
    if details.stage and details.stage != details.state:
        text += f" stage {details.stage}"
    agents = [p.id for p in details.participants if p.role == "ASSIGNED_AGENT" and p.id]
    if agents:  # what tells an agent's accepting apart from the opening, both UPSERTs of an open conversation
        text += " agent " + ", ".join(agents)
    if details.close_reason:
        text += f" closeReason {details.close_reason}"
    return text


def describe(notification: Notification) -> str:
    """One line per change: event type, conversation, originator role and what happened."""
    lines = []
    for change in notification.changes:
        if isinstance(change, MessagingChange):
            kind, role, text = change.event.type, change.role or "-", _messaging_text(change)
        elif isinstance(change, ConversationChange):
            kind, role, text = "ConversationChange", "-", _conversation_text(change)
        else:
            kind, role, text = notification.type, "-", "(a change appinstall does not know)"
        conversation = change.conversation or "-"
        lines.append(f"{kind:<{_EVENT_WIDTH}} {conversation} {role:<{_ROLE_WIDTH}} {text}")
    return "\n".join(lines)


def attempt_label(header: str | None) -> str:
    """``#1`` for a first attempt, ``#2 retry`` after; empty when the sender did not say (``webhook-attempt``)."""
    if header is None or not header.isascii() or not header.isdigit():
        return ""
    return f"#{int(header)}" if int(header) <= 1 else f"#{int(header)} retry"


def delivery_warning(status: int) -> str | None:
    """Why answering ``status`` would surprise on the platform: a 2xx it does not count as delivered."""
    if 200 <= status < 300 and status not in DELIVERED:
        return f"answered {status}: the platform counts only 200 and 201 as delivered; it would retry this"
    return None


def _status_style(status: int) -> str:
    return "green" if status in DELIVERED else "yellow" if 200 <= status < 300 else "bold red"


Observer = Callable[[Notification, Mapping[str, str]], None]


class Listener:
    """The request handler: verify (when there are secrets), forward (when there is an app), print, answer.

    ``observe``, when given, hears of each notification printed, with its request's headers: ``appinstall demo``
    checks with it that what it expects arrived. ``forward``, when given, sends each verified request on to the
    app, and its answer is the listener's.
    """

    def __init__(
        self,
        secrets: list[str],
        status: int,
        raw: bool,
        path: str,
        out: Console,
        err: Console,
        observe: Observer | None = None,
        forward: Forwarder | None = None,
    ) -> None:
        self.secrets = secrets
        self.path = path
        self.status = status
        self.raw = raw
        self.out = out
        self.err = err
        self.observe = observe
        self.forward = forward
        self._warned: set[int] = set()

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        received = datetime.now().strftime("%H:%M:%S")
        webhook_id = request.headers.get(ID_HEADER, "-")
        attempt = request.headers.get(ATTEMPT_HEADER)
        try:
            notification = verify(body, request.headers, self.secrets) if self.secrets else parse(body)
        except WebhookVerificationError as error:
            self.err.print(Text.assemble((f"{received} ", "dim"), summary(webhook_id, attempt, 401), error.reason))
            return web.Response(status=401, text=error.reason + "\n")
        answer = await self.forward.send(request.method, body, request.headers) if self.forward else None
        status = self.status if answer is None else answer.status
        prefix = summary(webhook_id, attempt, status)
        if self.raw:  # standard output keeps the bodies alone, for jq
            self.out.print(body.decode(errors="replace"), markup=False, highlight=False, soft_wrap=True)
            self.err.print(Text.assemble((f"{received} ", "dim"), prefix), soft_wrap=True)
        else:
            for line in describe(notification).splitlines():
                self.out.print(Text.assemble((f"{received} ", "dim"), prefix, line), soft_wrap=True)
        if answer is not None and self.forward is not None:
            style = "red" if answer.error is not None else "dim"
            indent = " " * (len(received) + 1)  # under the notification's lines, past their time
            self.err.print(Text(indent + describe_answer(answer, self.forward.target), style), soft_wrap=True)
        self._warn(status)
        if self.observe is not None:
            self.observe(notification, request.headers)
        return web.Response(status=self.status) if answer is None else _passed_back(answer)

    def _warn(self, status: int) -> None:
        """Once per status: a second warning for the same status would only bury the notifications."""
        warning = delivery_warning(status)
        if warning is not None and status not in self._warned:
            self._warned.add(status)
            self.err.print(Text("WARNING: " + warning, "bold yellow"), soft_wrap=True)

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.err.print(Text(f"404 {request.method} {request.path}: this listens for POST {self.path}", "yellow"))
        return web.Response(status=404)


def summary(webhook_id: str, attempt: str | None, status: int) -> Text:
    """What starts each printed line: the delivery (``webhook-id``), which attempt of it, the status answered."""
    label = attempt_label(attempt)
    return Text.assemble(
        (webhook_id, "cyan"),
        " ",
        (f"{label} ", "bold magenta" if "retry" in label else "dim") if label else "",
        (f"{status}", _status_style(status)),
        " ",
    )


def _passed_back(answer: Answer) -> web.Response:
    """The app's answer as the platform gets it; when the app could not be reached, 502 and why, in one line."""
    if answer.error is not None:
        return web.Response(status=answer.status, text=answer.error + "\n")
    return web.Response(status=answer.status, body=answer.body, headers=answer.headers)


async def start_listener(
    listener: Listener, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None
) -> web.AppRunner:
    """Serve ``listener`` on ``host:port``, or on ``sock``, a socket already bound (so that its port could be
    written into a manifest before anything was received). Stop it with ``cleanup()``."""
    app = web.Application()
    if listener.forward is not None:
        forwarder = listener.forward

        async def close_forwarder(_: web.Application) -> None:
            await forwarder.close()

        app.on_cleanup.append(close_forwarder)
    app.router.add_post(listener.path, listener.receive)
    app.router.add_route("*", "/{tail:.*}", listener.elsewhere)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.SockSite(runner, sock) if sock is not None else web.TCPSite(runner, host, port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def _serve(host: str, port: int, listener: Listener) -> None:
    stop = stop_on_signals()
    runner = await start_listener(listener, host=host, port=port)
    try:
        address = f"http://{host}:{port}{listener.path}"
        answering = f"forwarding to {listener.forward.target}" if listener.forward else f"answering {listener.status}"
        listener.err.print(f"listening on {address}, {answering}; Ctrl-C to stop", soft_wrap=True)
        await stop.wait()
    finally:
        await runner.cleanup()


def listen(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 9000,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            envvar="APPINSTALL_LISTEN_SECRET",
            show_default=False,
            help="The installation's client secret; repeat for the old one during a rotation. Without it every "
            "request is accepted unverified.",
        ),
    ] = None,
    status: Annotated[
        int | None,
        typer.Option(
            min=200, max=599, show_default=False, help="Status to answer verified requests with (200 if not given)."
        ),
    ] = None,
    raw: Annotated[bool, typer.Option("--json", help="Print each body as received, one per line.")] = False,
    path: Annotated[str, typer.Option(help="Path to receive on.")] = "/",
    forward_to: Annotated[
        str | None,
        typer.Option(
            "--forward-to",
            metavar="URL",
            show_default=False,
            help="Pass each verified request on to your app at this URL (same body and headers) and answer with "
            "its status; 502 when it cannot be reached.",
        ),
    ] = None,
) -> None:
    """Receive webhooks locally: verify their signatures, print each notification, optionally forward it to your app."""
    if not path.startswith("/"):
        path = "/" + path
    forwarder = None
    if forward_to is not None and status is not None:
        typer.echo("error: --status and --forward-to: choose one (forwarding answers with your app's status)", err=True)
        raise typer.Exit(USAGE_ERROR)
    if forward_to is not None:
        target = forward_target(forward_to)
        if target is None:
            typer.echo(f"error: --forward-to must be an http:// or https:// URL, not {forward_to!r}", err=True)
            raise typer.Exit(USAGE_ERROR)
        forwarder = Forwarder(target)
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    secrets = [value for value in secret or [] if value]
    if not secrets:
        err.print(Text("WARNING: no --secret: every request is accepted and NOT verified", "bold red"))
    try:
        asyncio.run(_serve(host, port, Listener(secrets, status or 200, raw, path, out, err, forward=forwarder)))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    err.print("stopped")
    sys.stdout.flush()
