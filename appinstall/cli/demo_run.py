"""What ``appinstall demo`` runs: the platform's whole loop on a laptop, in one command, then the service left running.

It runs, in this one process, the server (SQLite in the data directory, development mode, webhook worker) and a
receiver (``appinstall listen``'s, verifying both signatures); it installs the bundled example manifest with every
webhook pointed at that receiver, turns the echo agent on for the demo account, and plays a consumer through the
platform's own paths (AppJWT, ConsumerJWS, Send API). What the connector would hear is printed as it arrives.

Everything after bootstrapping goes over HTTP, as a connector's calls would: the demo shows the real thing, not a
shortcut. Only the account and its admin key are made straight in the store (as ``appinstall accounts create`` and
``keys create`` do), because no credential exists yet to ask the API with. Running it again on the same data
directory reuses the account and the installation (``apply``'s logic: by client_name, updated in place).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import httpx
import typer
import uvicorn
from aiohttp import web
from rich.console import Console
from rich.text import Text

from appinstall.accounts import service as accounts
from appinstall.accounts.models import AccountCreate, KeyCreated
from appinstall.app import ConfigurationError, create_app, open_store
from appinstall.cli.demo_steps import (
    SEED_MANIFEST,
    STEPS,
    Arrival,
    Credentials,
    DemoManifestError,
    demo_manifest,
    missing_steps,
    next_steps,
    signed_both_ways,
)
from appinstall.cli.listen import Listener, start_listener
from appinstall.cli.remote import RegistryClient, RemoteError, ServerUnreachable, apply_manifest
from appinstall.cli.signals import stop_on_signals
from appinstall.cli.startup_errors import load_settings
from appinstall.connector.receiving import Notification
from appinstall.connector.tokens import AsyncTokenClient, TokenError
from appinstall.console import links
from appinstall.errors import Conflict
from appinstall.settings import Settings
from appinstall.store import Store

HOST: Final = "127.0.0.1"  # development mode lets webhooks reach this machine only
KEY_NAME: Final = "appinstall demo"
CONSUMER: Final = "demo-consumer"
GREETING: Final = "hello"


class DemoError(Exception):
    """The demo cannot go on; the message says why and what to do."""


class _EmbeddedServer(uvicorn.Server):
    """uvicorn as one part of a larger program: the demo, not uvicorn, decides what Ctrl-C stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(port: int, what: str, option: str) -> socket.socket:
    try:
        return socket.create_server((HOST, port))
    except OSError as error:
        reason = (error.strerror or str(error)).split(" (while", 1)[0]
        raise DemoError(f"cannot listen on {HOST}:{port} for {what}: {reason}; choose another with {option}") from None


async def _start_server(server: uvicorn.Server, sock: socket.socket) -> asyncio.Task[None]:
    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn's answer to a failed startup; its reason is already logged
            raise DemoError("the server did not start (see above)") from None

    task = asyncio.create_task(serve(), name="appinstall-demo-server")
    while not server.started:
        if task.done():
            task.result()
            raise DemoError("the server stopped while starting")
        await asyncio.sleep(0.02)
    return task


async def _admin_key(store: Store, account_id: str) -> KeyCreated:
    """A fresh admin key for the demo account (made if absent); the previous demo run's key is revoked."""
    with contextlib.suppress(Conflict):  # it exists already
        await accounts.create_account(store, account_id)
    for key in await accounts.list_keys(store, account_id):
        if key.name == KEY_NAME and key.revoked_at is None:
            await accounts.revoke_key(store, account_id, key.id)
    return await accounts.create_key(store, account_id, KEY_NAME)


def _install(server: str, key: str, account: str, receiver_url: str) -> tuple[str, dict[str, Any]]:
    """Install the example manifest (or bring the earlier demo's installation up to date), enabled, with its
    webhooks healthy and its client secret readable. Blocking: run it in a thread."""
    data, document = demo_manifest(SEED_MANIFEST.read_bytes(), receiver_url)
    with RegistryClient(server, key, account) as registry:
        applied = apply_manifest(registry, data, document)
        installation, revision = applied.result.installation, applied.result.revision
        if installation.get("enabled") is False:
            installation = registry.patch(installation["id"], {"enabled": True}, revision).installation
        for webhook in registry.webhook_health(installation["id"]):
            if webhook.get("enabled") is False:  # disabled by failures of an earlier run's receiver
                registry.enable_webhook(installation["id"], str(webhook["event_type"]))
        if not installation.get("client_secret"):  # the server masks secrets (APPINSTALL_MASK_CLIENT_SECRET)
            installation["client_secret"] = registry.rotate_secret(installation["id"], 0)["client_secret"]
    return applied.action, installation


class _Demo:
    """One run: the steps in order, the arrivals heard, and the console they are told on."""

    def __init__(self, settings: Settings, account: str, timeout: float, stop: asyncio.Event) -> None:
        self.settings = settings
        self.account = account
        self.timeout = timeout
        self.stop = stop
        self.out = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self.arrivals: list[Arrival] = []
        self.arrived = asyncio.Event()
        self.checking = True
        self.receiver: web.AppRunner | None = None
        self.base = f"http://{HOST}:{settings.port}"

    def say(self, label: str, text: str) -> None:
        self.out.print(Text.assemble((f"{label:<10}", "bold"), text), soft_wrap=True)

    def heard(self, notification: Notification, headers: Any) -> None:
        if self.checking:  # after the check the listener only prints: a long-running demo keeps nothing
            self.arrivals.append(Arrival(notification, signed_both_ways(headers)))
            self.arrived.set()

    async def play(self, store: Store, receiver_socket: socket.socket) -> tuple[Credentials, list[str]]:
        """Every step, told as it happens: account, app, receiver, agent, conversation, then the notifications."""
        receiver_url = f"http://{HOST}:{receiver_socket.getsockname()[1]}/"
        self.say("server", f"{self.base}  (SQLite in {self.settings.data_dir.resolve()}; API reference at /docs)")
        made = await _admin_key(store, self.account)
        key = made.key
        self.say("account", f"{self.account}, with a new admin key (any earlier demo key is revoked)")
        action, installation = await asyncio.to_thread(_install, self.base, key, self.account, receiver_url)
        client_id, secret = str(installation["id"]), str(installation["client_secret"])
        self.say("app", f'"{installation["client_name"]}" {action} from the example manifest, id {client_id}')
        listener = Listener([secret], 200, False, "/", self.out, self.err, observe=self.heard)
        self.receiver = await start_listener(listener, sock=receiver_socket)
        self.say("receiver", f"{receiver_url}  (every webhook of the app; verifies both signatures)")
        async with httpx.AsyncClient(base_url=self.base, timeout=10) as http:
            admin = {"Authorization": f"Bearer {key}"}
            agent = await http.put(f"/api/account/{self.account}/sandbox/agent", json={"mode": "echo"}, headers=admin)
            agent.raise_for_status()
            self.say("agent", "echo, for this account: accepts, marks read, types, repeats the consumer's text")
            link = await links.issue(store, self.account, made.id)
            self.say("console", f"{self.base}/console/sign-in/link?token={link}  (open it: signs you in, once)")
            self.say("consumer", f'{CONSUMER}: AppJWT, ConsumerJWS, opens a conversation, says "{GREETING}"')
            heading = "\nNotifications, as the connector receives them, each one verified:"
            self.out.print(Text(heading, "bold"), soft_wrap=True)
            conversation_id = await self.converse(http, client_id, secret)
        missing = await self.wait_for(conversation_id)
        self.checking = False
        return Credentials(self.base, self.account, key, client_id, secret, CONSUMER, conversation_id), missing

    async def converse(self, http: httpx.AsyncClient, client_id: str, secret: str) -> str:
        """As a connector would: AppJWT, ConsumerJWS, open a conversation, say hello. The conversation's id."""
        account_path = f"/api/account/{self.account}"
        tokens = AsyncTokenClient(self.base, self.account, client_id, secret, http=http)
        consumer = {"Authorization": await tokens.app_jwt(), "X-LP-ON-BEHALF": await tokens.consumer_token(CONSUMER)}
        opening = [
            {"kind": "req", "id": "1", "type": "userprofile.SetUserProfile", "body": {}},
            {"kind": "req", "id": "2", "type": "cm.ConsumerRequestConversation", "body": {"skillId": "-1"}},
        ]
        opened = await http.post(f"{account_path}/messaging/consumer/conversation?v=3", json=opening, headers=consumer)
        opened.raise_for_status()
        conversation_id: str = opened.json()[1]["body"]["conversationId"]
        event = {"type": "ContentEvent", "contentType": "text/plain", "message": GREETING}
        message = {
            "kind": "req",
            "id": "3",
            "type": "ms.PublishEvent",
            "body": {"dialogId": conversation_id, "event": event},
        }
        send = f"{account_path}/messaging/consumer/conversation/send?v=3"
        (await http.post(send, json=message, headers=consumer)).raise_for_status()
        return conversation_id

    async def wait_for(self, conversation_id: str) -> list[str]:
        """The expected notifications still missing when all arrived, the timeout passed or the user stopped."""
        deadline = time.monotonic() + self.timeout
        while missing := missing_steps(self.arrivals, conversation_id, GREETING):
            left = deadline - time.monotonic()
            if left <= 0 or self.stop.is_set():
                return missing
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), timeout=min(left, 0.5))
        return []


async def _run(settings: Settings, account: str, listen_port: int, once: bool, timeout: float) -> int:
    stop = stop_on_signals()
    demo = _Demo(settings, account, timeout, stop)
    try:
        store = await open_store(settings)
    except ConfigurationError as error:
        raise DemoError(str(error)) from None
    try:
        with (
            _bind(settings.port, "the server", "--port") as server_socket,
            _bind(listen_port, "the receiver", "--listen-port") as receiver_socket,
        ):
            app = create_app(settings, store=store)
            server = _EmbeddedServer(uvicorn.Config(app, log_level="warning", access_log=False, proxy_headers=False))
            serving = await _start_server(server, server_socket)
            try:
                credentials, missing = await demo.play(store, receiver_socket)
                return await _finish(demo, missing, credentials, once)
            finally:
                server.should_exit = True  # first the server, whose worker may still be delivering to the receiver
                await serving
                if demo.receiver is not None:
                    await demo.receiver.cleanup()
    finally:
        await store.close()


async def _finish(demo: _Demo, missing: list[str], credentials: Credentials, once: bool) -> int:
    out = demo.out
    if demo.stop.is_set():  # Ctrl-C while waiting
        out.print("stopping")
        return 1 if missing else 0
    if missing:
        demo.err.print(
            Text(f"\nerror: {len(missing)} of {len(STEPS)} expected notifications did not arrive verified: ", "red")
            + Text("; ".join(missing)),
            soft_wrap=True,
        )
        demo.err.print("(the server's messages above, and `appinstall deliveries list ID`, say why)")
    else:
        out.print(Text(f"\nAll {len(STEPS)} notifications arrived, both signatures verified:", "bold green"))
        out.print("  " + " → ".join(STEPS), soft_wrap=True)
    if once:
        return 1 if missing else 0
    heading = "\nGo on by hand (these credentials are this data directory's, for development only):"
    out.print(Text(heading, "bold"), soft_wrap=True)
    out.print(next_steps(credentials), markup=False, soft_wrap=True)
    running = (
        f"\nThe server keeps running at {credentials.server}; notifications keep printing here. Ctrl-C stops both."
    )
    out.print(Text(running, "bold"), soft_wrap=True)
    await demo.stop.wait()
    out.print("stopping")
    return 0


def run_demo(
    data_dir: Path | None, port: int | None, listen_port: int, account: str, once: bool, timeout: float
) -> None:
    """What ``appinstall demo`` does once its options are read (see the module's docstring)."""
    try:
        AccountCreate(id=account)
    except ValueError:
        typer.echo("error: an account id is 1-64 letters, digits, '-' or '_', starting with one of the first", err=True)
        raise typer.Exit(2) from None
    settings = load_settings()  # a bad setting is one line, exit 2, as for serve
    changes: dict[str, Any] = {"database_url": None, "host": HOST, "dev": True, "worker": True}
    if data_dir is not None:
        changes["data_dir"] = data_dir
    if port is not None:
        changes["port"] = port
    settings = settings.model_copy(update=changes)
    logging.basicConfig(level=logging.WARNING, format="appinstall: %(levelname)s %(name)s: %(message)s")
    try:
        code = asyncio.run(_run(settings, account, listen_port, once, timeout))
    except (DemoError, DemoManifestError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except (RemoteError, ServerUnreachable, TokenError, httpx.HTTPError) as error:
        typer.echo(f"error: the demo's own server refused a step: {error}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)
