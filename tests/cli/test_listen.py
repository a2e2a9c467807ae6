"""``appinstall listen``: what ``describe`` prints for each kind of change, and the command as a real process that
verifies, prints and answers signed requests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from appinstall.cli.listen import describe
from appinstall.sandbox.notifications import Conversation, conversation_upsert
from appinstall.webhooks import parse
from appinstall.webhooks.envelope import encode
from appinstall.webhooks.signing import signature_headers
from tests.live_server import free_port

FIXTURES = Path(__file__).parent.parent / "webhooks" / "fixtures"
SECRET = "rl9hacst6kqilbofup64n11ga3"
CONVERSATION = "5491244f-4b2c-4b8a-9d47-1e9b3c1f2a7e"


def _messaging(*events: dict[str, Any], role: str = "CONSUMER") -> bytes:
    changes = [
        {
            "sequence": 0,
            "originatorId": "ade26082",
            "originatorMetadata": {"id": "ade26082", "role": role},
            "serverTimestamp": 1528371161893,
            "event": event,
            "conversationId": CONVERSATION,
            "dialogId": CONVERSATION,
        }
        for event in events
    ]
    return encode({"kind": "notification", "body": {"changes": changes}, "type": "ms.MessagingEventNotification"})


HELLO = _messaging({"type": "ContentEvent", "message": "Hello from Consumer", "contentType": "text/plain"})
CLOSE = encode(json.loads((FIXTURES / "platform_conversation_close.json").read_text()))


# --- describe ------------------------------------------------------------------------------------------------


def test_a_text_message_is_described_with_its_conversation_role_and_quoted_text() -> None:
    assert describe(parse(HELLO)) == f'ContentEvent       {CONVERSATION} CONSUMER       "Hello from Consumer"'


def test_a_multi_line_message_stays_on_one_line() -> None:
    body = _messaging({"type": "ContentEvent", "message": "one\ntwo", "contentType": "text/plain"})
    assert describe(parse(body)).endswith('"one\\ntwo"')


def test_a_file_message_shows_its_caption_and_content_type() -> None:
    file = {"caption": "invoice", "relativePath": "/a/b.pdf", "fileType": "PDF"}
    body = _messaging({"type": "ContentEvent", "message": file, "contentType": "hosted/file"})
    assert describe(parse(body)).endswith('file "invoice" (hosted/file)')


def test_rich_content_shows_its_type() -> None:
    body = _messaging({"type": "RichContentEvent", "content": {"type": "vertical", "elements": []}})
    assert describe(parse(body)).endswith("rich content (vertical)")


def test_an_accept_status_shows_the_status_and_the_sequences_it_covers() -> None:
    body = _messaging({"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0, 1]}, role="ASSIGNED_AGENT")
    assert describe(parse(body)) == f"AcceptStatusEvent  {CONVERSATION} ASSIGNED_AGENT READ sequence 0, 1"


def test_a_chat_state_shows_the_state() -> None:
    body = _messaging({"type": "ChatStateEvent", "chatState": "COMPOSING"})
    assert describe(parse(body)).endswith("CONSUMER       COMPOSING")


def test_a_conversation_change_shows_its_state_and_close_reason() -> None:
    assert describe(parse(CLOSE)) == (
        "ConversationChange b8b83fe9-75f0-46f2-baaa-2930f7192cfb -              UPSERT CLOSE closeReason CONSUMER"
    )


def test_a_conversation_change_names_its_assigned_agent() -> None:
    accepted = Conversation(CONVERSATION, "123", "consumer-1", "OPEN", "-1", 1, 2, agent_id="echo-agent")
    assert describe(parse(encode(conversation_upsert(accepted)))).endswith("UPSERT OPEN agent echo-agent")


def test_an_unknown_event_type_is_described_not_refused() -> None:
    assert describe(parse(_messaging({"type": "HologramEvent"}))).startswith("HologramEvent      " + CONVERSATION)


def test_each_change_gets_its_own_line() -> None:
    body = _messaging(
        {"type": "ChatStateEvent", "chatState": "COMPOSING"}, {"type": "ChatStateEvent", "chatState": "PAUSE"}
    )
    assert [line.rsplit(" ", 1)[-1] for line in describe(parse(body)).splitlines()] == ["COMPOSING", "PAUSE"]


# --- The command, as a process -------------------------------------------------------------------------------


@dataclass
class Listener:
    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def wait_for(self, text: str, stream: str = "stdout", timeout: float = 10) -> str:
        """What the process printed on ``stream``, once ``text`` is in it."""
        path = self.stdout if stream == "stdout" else self.stderr
        deadline = time.monotonic() + timeout
        while text not in (printed := path.read_text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not printed on {stream}:\n{printed}\n{self.stderr.read_text()}")
            time.sleep(0.05)
        return printed

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=15)


@contextmanager
def listening(directory: Path, *options: str) -> Iterator[Listener]:
    """``appinstall listen`` on a free port until the block ends; ready once it says it is listening."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    stdout, stderr = directory / "stdout.txt", directory / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "listen", "--port", str(port), *options], stdout=out, stderr=err
        )
    listener = Listener(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        listener.wait_for("listening on", "stderr", timeout=30)
        yield listener
    finally:
        listener.stop()


def _signed(body: bytes, secret: str = SECRET, message_id: str = "msg_listen") -> dict[str, str]:
    return signature_headers(
        account_id="123", client_id="c", secrets=[secret], message_id=message_id, timestamp=int(time.time()), body=body
    )


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listener]:
    """One verifying listener for the module, holding a new and an old secret."""
    with listening(tmp_path_factory.mktemp("listen"), "--secret", "new-secret", "--secret", SECRET) as running:
        yield running


def test_a_signed_notification_is_answered_200_and_printed_as_one_line(listener: Listener) -> None:
    answer = httpx.post(listener.url, content=HELLO, headers=_signed(HELLO, message_id="msg_hello"))
    assert answer.status_code == 200
    printed = listener.wait_for("msg_hello")
    assert f'msg_hello ContentEvent       {CONVERSATION} CONSUMER       "Hello from Consumer"' in printed


def test_a_request_signed_with_the_old_secret_is_accepted(listener: Listener) -> None:
    answer = httpx.post(listener.url, content=CLOSE, headers=_signed(CLOSE, message_id="msg_old_secret"))
    assert answer.status_code == 200
    assert "UPSERT CLOSE closeReason CONSUMER" in listener.wait_for("msg_old_secret")


def test_a_bad_signature_is_answered_401_and_the_reason_printed(listener: Listener) -> None:
    answer = httpx.post(listener.url, content=HELLO, headers=_signed(HELLO, "wrong", message_id="msg_wrong"))
    assert answer.status_code == 401
    assert "msg_wrong 401 bad signature in x-liveperson-signature" in listener.wait_for("msg_wrong", "stderr")


def test_the_secret_is_never_printed(listener: Listener) -> None:
    httpx.post(listener.url, content=HELLO, headers=_signed(HELLO, "wrong", message_id="msg_secret"))
    listener.wait_for("msg_secret", "stderr")
    assert SECRET not in listener.stdout.read_text() + listener.stderr.read_text()


def test_a_post_to_another_path_is_answered_404(listener: Listener) -> None:
    answer = httpx.post(listener.url + "/elsewhere", content=HELLO, headers=_signed(HELLO))
    assert answer.status_code == 404


def test_with_a_status_every_verified_request_gets_it(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--status", "503", "--path", "/hook") as running:
        answer = httpx.post(running.url + "/hook", content=HELLO, headers=_signed(HELLO, message_id="msg_503"))
        assert answer.status_code == 503
        running.wait_for("msg_503 ContentEvent")


def test_with_json_the_body_is_printed_exactly(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--json") as running:
        httpx.post(running.url, content=CLOSE, headers=_signed(CLOSE)).raise_for_status()
        assert running.wait_for("\n").splitlines() == [CLOSE.decode()]


def test_without_a_secret_it_warns_and_accepts_an_unsigned_request(tmp_path: Path) -> None:
    with listening(tmp_path) as running:
        assert "WARNING: no --secret" in running.stderr.read_text()
        answer = httpx.post(running.url, content=HELLO)
        assert answer.status_code == 200
        running.wait_for("Hello from Consumer")


def test_ctrl_c_stops_it_cleanly(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET) as running:
        assert running.stop() == 0
        assert running.stderr.read_text().endswith("stopped\n")
