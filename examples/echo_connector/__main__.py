"""The echo connector: installs itself, opens a conversation as its consumer, and echoes every agent message.

Run it from the repository root with ``python -m examples.echo_connector``; settings come from the environment
(see README.md). It stops when the conversation is closed, or on Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from appinstall.connector import AsyncTokenClient

from .consumer import Consumer
from .install import PlatformError, discover, install
from .webhooks import PATH, AgentMessage, Closed, Heard, receiver

MANIFEST = Path(__file__).with_name("manifest.json")
GREETING = "hello"


@dataclass(frozen=True)
class Settings:
    server: str  # where domain discovery is; on the platform, its CSDS host
    account: str
    admin_key: str  # installs the app; the connector itself then uses only its client credentials
    host: str  # where the webhook receiver listens
    port: int
    public_url: str | None  # where the platform reaches the receiver, if not at host:port (a tunnel, a proxy)
    consumer: str  # the consumer's id in the connector's own world (a phone number, a chat handle…)
    platform_signature_only: bool = False  # accept requests signed as the platform signs them (no timestamp)

    @classmethod
    def from_environment(cls) -> Settings:
        missing = [name for name in ("APPINSTALL_ACCOUNT", "APPINSTALL_KEY") if not os.environ.get(name)]
        if missing:
            sys.exit(f"set {' and '.join(missing)} (see examples/echo_connector/README.md)")
        return cls(
            server=os.environ.get("APPINSTALL_SERVER", "http://127.0.0.1:8080").rstrip("/"),
            account=os.environ["APPINSTALL_ACCOUNT"],
            admin_key=os.environ["APPINSTALL_KEY"],
            host=os.environ.get("ECHO_HOST", "127.0.0.1"),
            port=int(os.environ.get("ECHO_PORT", "9000")),
            public_url=os.environ.get("ECHO_PUBLIC_URL"),
            consumer=os.environ.get("ECHO_CONSUMER", "echo-consumer"),
            platform_signature_only=os.environ.get("ECHO_PLATFORM_SIGNATURE_ONLY", "") in ("1", "true"),
        )

    @property
    def webhook_url(self) -> str:
        base = self.public_url.rstrip("/") if self.public_url else f"http://{self.host}:{self.port}"
        return base + PATH


def say(line: str) -> None:
    print(line, flush=True)  # flushed: the output is often a pipe (a log collector, a test)


def listening_socket(host: str, port: int) -> socket.socket:
    """The receiver's socket, bound before the app is installed: a port that is taken fails the start, instead of
    the webhooks being pointed at it."""
    return socket.create_server((host, port))


@asynccontextmanager
async def serving(app: FastAPI, sock: socket.socket) -> AsyncIterator[None]:
    """Run the webhook receiver in this event loop while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():  # uvicorn gave up starting (it has logged why): do not wait for ever
            task.result()
            raise RuntimeError("the webhook receiver did not start")
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        await task


async def echo(consumer: Consumer, conversation_id: str, inbox: asyncio.Queue[Heard]) -> None:
    """Answer each agent message of the conversation, in order, until it is closed."""
    while True:
        heard = await inbox.get()
        if heard.conversation_id != conversation_id:
            continue  # another conversation of the account: other connectors', or an earlier run's
        if isinstance(heard, Closed):
            say(f"conversation {conversation_id} closed by {heard.reason}")
            return
        assert isinstance(heard, AgentMessage)
        say(f"agent: {heard.text}")
        answer = f"echo: {heard.text}"
        try:
            await consumer.send_text(conversation_id, answer)
        except PlatformError as error:
            # Typically the agent closed the conversation before the answer went out: its closing is next in the
            # inbox. One lost answer should not stop the connector.
            say(f"could not answer: {error}")
            continue
        say(f"consumer: {answer}")


async def run(settings: Settings) -> None:
    manifest = json.loads(MANIFEST.read_text())
    # The endpoints are where this process listens, known only now: every webhook goes to the one receiver.
    for webhook in manifest["capabilities"]["webhooks"].values():
        webhook["endpoint"] = settings.webhook_url
    sock = listening_socket(settings.host, settings.port)
    async with httpx.AsyncClient(timeout=10.0) as http:
        services = await discover(http, settings.server, settings.account)
        credentials = await install(
            http, services["accountConfigReadWrite"], settings.account, settings.admin_key, manifest
        )
        say(f"installed {manifest['client_name']} as {credentials.client_id}; webhooks to {settings.webhook_url}")
        inbox: asyncio.Queue[Heard] = asyncio.Queue()
        # Listen before opening: the conversation's first notifications follow the open at once.
        async with serving(
            receiver(credentials.client_secret, inbox, platform_signature_only=settings.platform_signature_only), sock
        ):
            tokens = AsyncTokenClient(
                services["sentinel"], settings.account, credentials.client_id, credentials.client_secret
            )
            try:
                consumer = Consumer(http, services, settings.account, tokens, settings.consumer)
                conversation_id = await consumer.open_conversation()
                say(f"opened conversation {conversation_id}")
                await consumer.send_text(conversation_id, GREETING)
                say(f"consumer: {GREETING}")
                await echo(consumer, conversation_id, inbox)
            finally:
                await tokens.aclose()


def main() -> None:
    settings = Settings.from_environment()
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:  # Ctrl-C: stop without a traceback
        pass
    except httpx.TransportError as error:
        sys.exit(f"echo connector: cannot reach {error.request.url.host}:{error.request.url.port}: {error}")
    except (PlatformError, OSError) as error:  # refused by the server, the port taken…
        sys.exit(f"echo connector: {error}")


if __name__ == "__main__":
    main()
