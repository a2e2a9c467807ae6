"""The example connector as a developer runs it (``python -m examples.echo_connector``), against a real server,
with the test playing the agent through the sandbox's agent API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from appinstall.connector import AsyncTokenClient
from examples.echo_connector.__main__ import echo
from examples.echo_connector.consumer import Consumer
from examples.echo_connector.install import discover
from examples.echo_connector.webhooks import AgentMessage, Closed, Heard
from tests.examples.echo_connector.tenants import Tenant, install_the_example
from tests.live_server import free_port

ROOT = Path(__file__).parents[3]
CONTENT = "ms.MessagingEventNotification.ContentEvent"


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first match of ``pattern`` in the connector's output, once it has printed it."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.process.poll() is not None  # before reading: what it printed before exiting is read
            found = re.search(pattern, self.output())
            if found is not None:
                break
            assert not exited, f"the connector exited without printing {pattern!r}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {pattern!r} in:\n{self.output()}"
            time.sleep(0.05)
        return found


@contextmanager
def echo_connector(tenant: Tenant, directory: Path) -> Iterator[Running]:
    """Run the example until the block ends (or it stops by itself), with its settings in the environment."""
    env = {
        **os.environ,
        "APPINSTALL_SERVER": tenant.server.url,
        "APPINSTALL_ACCOUNT": tenant.account,
        "APPINSTALL_KEY": tenant.admin_key,
        "ECHO_PORT": str(free_port()),
    }
    log = directory / "connector.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "examples.echo_connector"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Running(process, log)
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=15)


def observe(tenant: Tenant) -> str:
    """Install a second app that hears every message of the account at the observer; its path there."""
    path = f"/{tenant.account}"
    manifest = {
        "client_name": "observer",
        "capabilities": {"webhooks": {CONTENT: {"endpoint": tenant.server.observer.url(path)}}},
    }
    httpx.post(
        f"{tenant.server.url}/api/account/{tenant.account}/configuration/app-install/installations",
        json=manifest,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    ).raise_for_status()
    return path


def consumer_says(tenant: Tenant, path: str, conversation_id: str, text: str, timeout: float = 20) -> dict[str, Any]:
    """The consumer's message ``text`` in the conversation, as the observer received it."""
    deadline = time.monotonic() + timeout
    while True:
        for body in tenant.server.observer.bodies(path):
            change = json.loads(body)["body"]["changes"][0]
            if (change["conversationId"], change["event"]["message"]) == (conversation_id, text):
                found: dict[str, Any] = change
                return found
        assert time.monotonic() < deadline, f"the consumer never said {text!r}"
        time.sleep(0.05)


def agent(tenant: Tenant, conversation_id: str, action: str, body: dict[str, Any] | None = None) -> None:
    response = httpx.post(
        f"{tenant.server.url}/api/account/{tenant.account}/sandbox/conversations/{conversation_id}/{action}",
        json=body,
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    )
    assert response.status_code == 200, response.text


def test_the_connector_opens_a_conversation_and_greets_as_its_consumer(tenant: Tenant, tmp_path: Path) -> None:
    path = observe(tenant)
    with echo_connector(tenant, tmp_path) as connector:
        conversation_id = connector.wait_for(r"opened conversation (\S+)")[1]
        greeting = consumer_says(tenant, path, conversation_id, "hello")
    assert greeting["originatorMetadata"]["role"] == "CONSUMER"


def test_the_connector_answers_an_agents_message_as_its_consumer(tenant: Tenant, tmp_path: Path) -> None:
    path = observe(tenant)
    with echo_connector(tenant, tmp_path) as connector:
        conversation_id = connector.wait_for(r"opened conversation (\S+)")[1]
        agent(tenant, conversation_id, "accept")
        question = f"how can I help? {uuid.uuid4().hex[:6]}"
        agent(tenant, conversation_id, "events", {"event": {"type": "ContentEvent", "message": question}})
        answer = consumer_says(tenant, path, conversation_id, f"echo: {question}")
    assert answer["originatorMetadata"]["role"] == "CONSUMER"


def test_the_connector_answers_each_agent_message_in_order(tenant: Tenant, tmp_path: Path) -> None:
    path = observe(tenant)
    with echo_connector(tenant, tmp_path) as connector:
        conversation_id = connector.wait_for(r"opened conversation (\S+)")[1]
        agent(tenant, conversation_id, "accept")
        for text in ("one", "two", "three"):
            agent(tenant, conversation_id, "events", {"event": {"type": "ContentEvent", "message": text}})
        answers = [consumer_says(tenant, path, conversation_id, f"echo: {text}") for text in ("one", "two", "three")]
    assert [answer["sequence"] for answer in answers] == sorted(answer["sequence"] for answer in answers)


def test_the_connector_stops_when_the_agent_closes_its_conversation(tenant: Tenant, tmp_path: Path) -> None:
    with echo_connector(tenant, tmp_path) as connector:
        conversation_id = connector.wait_for(r"opened conversation (\S+)")[1]
        agent(tenant, conversation_id, "accept")
        agent(tenant, conversation_id, "close")
        assert connector.process.wait(timeout=20) == 0
    assert f"conversation {conversation_id} closed by AGENT" in connector.output()


def test_an_answer_refused_because_the_agent_closed_first_does_not_stop_the_connector(
    tenant: Tenant, capsys: pytest.CaptureFixture[str]
) -> None:
    """The agent may close before the echo goes out: the Send API refuses it, and the loop goes on to the closing."""
    credentials = install_the_example(tenant, "http://127.0.0.1:9/webhooks")

    async def run() -> None:
        async with httpx.AsyncClient() as http:
            services = await discover(http, tenant.server.url, tenant.account)
            tokens = AsyncTokenClient(
                services["sentinel"], tenant.account, credentials.client_id, credentials.client_secret
            )
            consumer = Consumer(http, services, tenant.account, tokens, "late-answer")
            conversation_id = await consumer.open_conversation()
            admin = {"Authorization": f"Bearer {tenant.admin_key}"}
            agent_api = f"{tenant.server.url}/api/account/{tenant.account}/sandbox/conversations/{conversation_id}"
            for action in ("accept", "close"):
                (await http.post(f"{agent_api}/{action}", headers=admin)).raise_for_status()
            inbox: asyncio.Queue[Heard] = asyncio.Queue()
            inbox.put_nowait(AgentMessage(conversation_id, "bye"))
            inbox.put_nowait(Closed(conversation_id, "AGENT"))
            await echo(consumer, conversation_id, inbox)
            await tokens.aclose()

    asyncio.run(run())
    assert "could not answer" in capsys.readouterr().out
