"""``appinstall listen --forward-to``: which headers go on, what is printed of the app's answer, and the command as
a real process between a client playing the platform and a real app on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner
from yarl import URL

from appinstall.cli import app as cli
from appinstall.cli.forward import Answer, describe_answer, forward_target, forwarded_headers
from appinstall.connector.signing import PLATFORM_SIGNATURE_HEADER, SIGNATURE_HEADER
from appinstall.webhooks.envelope import encode
from tests.cli.listener import SECRET, listening, signed
from tests.live_server import free_port
from tests.webhooks.receiver import Receiver, Reply

HELLO = encode(
    {
        "kind": "notification",
        "body": {
            "changes": [
                {
                    "sequence": 0,
                    "originatorId": "ade26082",
                    "originatorMetadata": {"id": "ade26082", "role": "CONSUMER"},
                    "serverTimestamp": 1528371161893,
                    "event": {"type": "ContentEvent", "message": "Hello from Consumer", "contentType": "text/plain"},
                    "conversationId": "conv-1",
                    "dialogId": "conv-1",
                }
            ]
        },
        "type": "ms.MessagingEventNotification",
    }
)
pytestmark = pytest.mark.anyio
APP = URL("http://127.0.0.1:4242/hook")


# --- Pure parts ----------------------------------------------------------------------------------------------


def test_hop_by_hop_headers_are_not_forwarded() -> None:
    headers = {"Connection": "keep-alive", "Keep-Alive": "timeout=5", "Transfer-Encoding": "chunked", "TE": "x"}
    assert forwarded_headers({**headers, "Content-Type": "application/json"}) == {"Content-Type": "application/json"}


def test_headers_the_connection_header_names_are_not_forwarded() -> None:
    assert forwarded_headers({"Connection": "close, X-Hop", "X-Hop": "1", "X-Kept": "2"}) == {"X-Kept": "2"}


def test_host_and_content_length_are_left_for_the_client_to_write() -> None:
    assert forwarded_headers({"Host": "127.0.0.1:9000", "Content-Length": "12", "webhook-id": "msg_1"}) == {
        "webhook-id": "msg_1"
    }


def test_the_signatures_go_on_to_the_app_unchanged() -> None:
    headers = signed(HELLO)
    assert forwarded_headers(headers) == headers


@pytest.mark.parametrize("value", ["localhost:3000", "ftp://127.0.0.1/hook", "http://", "/hook"])
def test_a_forward_target_must_be_an_http_url_with_a_host(value: str) -> None:
    assert forward_target(value) is None


def test_the_apps_answer_is_shown_with_its_status_time_and_body() -> None:
    answer = Answer(200, b'{"ok": true}\n', latency_ms=12)
    assert describe_answer(answer, APP) == '← 200 from http://127.0.0.1:4242/hook in 12 ms: {"ok": true}'


def test_a_long_answer_is_cut_to_one_short_line() -> None:
    line = describe_answer(Answer(500, b"trace\n" * 100, latency_ms=3), APP)
    assert "\n" not in line and line.endswith("…") and len(line) < 200


def test_no_answer_is_shown_as_502_and_why() -> None:
    answer = Answer(502, error="cannot reach http://127.0.0.1:4242/hook: connection refused")
    assert describe_answer(answer, APP) == "← 502 cannot reach http://127.0.0.1:4242/hook: connection refused"


# --- The command, as a process, in front of a real app ----------------------------------------------------------


@pytest.fixture
async def app() -> AsyncIterator[Receiver]:
    """The app under development: plain HTTP on 127.0.0.1, answers scripted per path (200 by default)."""
    server = Receiver(None, None)
    await server.start()
    yield server
    await server.stop()


async def test_a_verified_request_reaches_the_app_with_its_body_and_signatures(app: Receiver, tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--forward-to", app.url("/hook")) as running:
        headers = signed(HELLO, message_id="msg_fwd")
        async with httpx.AsyncClient() as platform:
            answer = await platform.post(running.url, content=HELLO, headers=headers)
    assert answer.status_code == 200
    [request] = app.received
    assert (request.path, request.body) == ("/hook", HELLO)
    for name in (PLATFORM_SIGNATURE_HEADER, SIGNATURE_HEADER, "webhook-id", "webhook-attempt"):
        assert request.headers[name] == headers[name]


async def test_the_platform_gets_the_apps_status_and_retry_after(app: Receiver, tmp_path: Path) -> None:
    app.then("/hook", Reply(503, headers={"Retry-After": "7"}, body=b"busy"))
    with listening(tmp_path, "--secret", SECRET, "--forward-to", app.url("/hook")) as running:
        async with httpx.AsyncClient() as platform:
            answer = await platform.post(running.url, content=HELLO, headers=signed(HELLO))
    assert (answer.status_code, answer.headers["Retry-After"], answer.content) == (503, "7", b"busy")


async def test_each_line_shows_the_delivery_attempt_and_the_apps_status(app: Receiver, tmp_path: Path) -> None:
    app.then("/hook", Reply(500, body=b"boom"))
    with listening(tmp_path, "--secret", SECRET, "--forward-to", app.url("/hook")) as running:
        async with httpx.AsyncClient() as platform:
            await platform.post(running.url, content=HELLO, headers=signed(HELLO, message_id="msg_x", attempt=3))
        assert "msg_x #3 retry 500 ContentEvent" in running.wait_for("msg_x")
        assert f"← 500 from {app.url('/hook')} in " in running.wait_for(": boom", "stderr")


async def test_a_request_that_fails_verification_is_answered_401_and_not_forwarded(
    app: Receiver, tmp_path: Path
) -> None:
    with listening(tmp_path, "--secret", SECRET, "--forward-to", app.url("/hook")) as running:
        async with httpx.AsyncClient() as platform:
            answer = await platform.post(running.url, content=HELLO, headers=signed(HELLO, "wrong"))
    assert answer.status_code == 401
    assert app.received == []


async def test_an_app_that_cannot_be_reached_is_a_502_with_the_reason(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/hook"
    with listening(tmp_path, "--secret", SECRET, "--forward-to", nowhere) as running:
        async with httpx.AsyncClient() as platform:
            answer = await platform.post(running.url, content=HELLO, headers=signed(HELLO, message_id="msg_down"))
        assert answer.status_code == 502
        assert answer.text == f"cannot reach {nowhere}: connection refused\n"
        assert "msg_down #1 502 ContentEvent" in running.wait_for("msg_down")


async def test_the_apps_2xx_other_than_200_or_201_is_warned_about_once_per_status(
    app: Receiver, tmp_path: Path
) -> None:
    app.then("/hook", Reply(202), Reply(202), Reply(204))
    with listening(tmp_path, "--secret", SECRET, "--forward-to", app.url("/hook")) as running:
        async with httpx.AsyncClient() as platform:
            for number in range(3):
                await platform.post(running.url, content=HELLO, headers=signed(HELLO, message_id=f"msg_{number}"))
        printed = running.wait_for("answered 204", "stderr")
    assert printed.count("answered 202: the platform counts only 200 and 201 as delivered") == 1


def test_a_forward_target_that_is_not_a_url_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["listen", "--forward-to", "localhost:3000"])
    assert result.exit_code == 2
    assert result.stderr == "error: --forward-to must be an http:// or https:// URL, not 'localhost:3000'\n"


def test_status_and_forward_to_together_are_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["listen", "--status", "503", "--forward-to", "http://127.0.0.1:4242/"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --status and --forward-to: choose one")
