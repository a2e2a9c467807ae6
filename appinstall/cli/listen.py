"""``appinstall listen``: a local webhook receiver that verifies and prints what arrives, like ``stripe listen``.

It lets a connector author see the notifications an installation gets before writing a receiver, and try the
delivery engine's retries (``--status 503``) and a bad secret (401) against something real. What is printed is a
pure function of the notification (``describe``), tested without a server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated

import typer
from aiohttp import web
from rich.console import Console
from rich.text import Text

from appinstall.cli.signals import stop_on_signals
from appinstall.webhooks.receiving import (
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
from appinstall.webhooks.signing import ID_HEADER

_EVENT_WIDTH = 18  # "ConversationChange"
_ROLE_WIDTH = 14  # "ASSIGNED_AGENT"


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


Observer = Callable[[Notification, Mapping[str, str]], None]


class Listener:
    """The request handler: verify (when there are secrets), print, answer the chosen status.

    ``observe``, when given, hears of each notification printed, with its request's headers: ``appinstall demo``
    checks with it that what it expects arrived.
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
    ) -> None:
        self.secrets = secrets
        self.path = path
        self.status = status
        self.raw = raw
        self.out = out
        self.err = err
        self.observe = observe

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        received = datetime.now().strftime("%H:%M:%S")
        webhook_id = request.headers.get(ID_HEADER, "-")
        try:
            notification = verify(body, request.headers, self.secrets) if self.secrets else parse(body)
        except WebhookVerificationError as error:
            self.err.print(Text.assemble((f"{received} {webhook_id} ", "dim"), ("401 ", "bold red"), error.reason))
            return web.Response(status=401, text=error.reason + "\n")
        if self.raw:
            self.out.print(body.decode(errors="replace"), markup=False, highlight=False, soft_wrap=True)
        else:
            for line in describe(notification).splitlines():
                self.out.print(Text.assemble((f"{received} ", "dim"), (webhook_id, "cyan"), " ", line), soft_wrap=True)
        if self.observe is not None:
            self.observe(notification, request.headers)
        return web.Response(status=self.status)

    async def elsewhere(self, request: web.Request) -> web.Response:
        self.err.print(Text(f"404 {request.method} {request.path}: this listens for POST {self.path}", "yellow"))
        return web.Response(status=404)


async def start_listener(
    listener: Listener, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None
) -> web.AppRunner:
    """Serve ``listener`` on ``host:port``, or on ``sock``, a socket already bound (so that its port could be
    written into a manifest before anything was received). Stop it with ``cleanup()``."""
    app = web.Application()
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
        listener.err.print(f"listening on {address}, answering {listener.status}; Ctrl-C to stop")
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
    status: Annotated[int, typer.Option(min=200, max=599, help="Status to answer verified requests with.")] = 200,
    raw: Annotated[bool, typer.Option("--json", help="Print each body as received, one per line.")] = False,
    path: Annotated[str, typer.Option(help="Path to receive on.")] = "/",
) -> None:
    """Receive webhooks locally: verify their signatures and print each notification."""
    if not path.startswith("/"):
        path = "/" + path
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    secrets = [value for value in secret or [] if value]
    if not secrets:
        err.print(Text("WARNING: no --secret: every request is accepted and NOT verified", "bold red"))
    try:
        asyncio.run(_serve(host, port, Listener(secrets, status, raw, path, out, err)))
    except KeyboardInterrupt:
        pass
    except OSError as error:
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None
    err.print("stopped")
    sys.stdout.flush()
