"""``appinstall listen``: what ``describe`` prints for each kind of change, and the command as a real process that
verifies, prints and answers signed requests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from appinstall.cli.listen import attempt_label, delivery_warning, describe, summary
from appinstall.connector import parse
from appinstall.sandbox.notifications import Conversation, conversation_upsert
from appinstall.webhooks.envelope import encode
from tests.cli.listener import SECRET, RunningListener, listening, signed

FIXTURES = Path(__file__).parent.parent / "webhooks" / "fixtures"
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


# --- Which attempt, which answer ----------------------------------------------------------------------------


def test_a_first_attempt_is_labelled_by_its_number_alone() -> None:
    assert attempt_label("1") == "#1"


def test_a_later_attempt_is_labelled_a_retry() -> None:
    assert attempt_label("3") == "#3 retry"


@pytest.mark.parametrize("header", [None, "", "two", "²"])
def test_without_a_usable_attempt_header_there_is_no_label(header: str | None) -> None:
    assert attempt_label(header) == ""


def test_each_line_starts_with_the_delivery_its_attempt_and_the_status_answered() -> None:
    assert summary("msg_1", "2", 503).plain == "msg_1 #2 retry 503 "


def test_a_request_without_an_attempt_header_shows_the_delivery_and_status() -> None:
    assert summary("msg_1", None, 200).plain == "msg_1 200 "


@pytest.mark.parametrize("status", [200, 201, 400, 500, 503])
def test_200_201_and_failures_need_no_warning(status: int) -> None:
    assert delivery_warning(status) is None


@pytest.mark.parametrize("status", [202, 204, 299])
def test_another_2xx_is_warned_about_as_a_retry_on_the_platform(status: int) -> None:
    assert delivery_warning(status) == (
        f"answered {status}: the platform counts only 200 and 201 as delivered; it would retry this"
    )


# --- The command, as a process -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def listener(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningListener]:
    """One verifying listener for the module, holding a new and an old secret."""
    with listening(tmp_path_factory.mktemp("listen"), "--secret", "new-secret", "--secret", SECRET) as running:
        yield running


def test_a_signed_notification_is_answered_200_and_printed_as_one_line(listener: RunningListener) -> None:
    answer = httpx.post(listener.url, content=HELLO, headers=signed(HELLO, message_id="msg_hello"))
    assert answer.status_code == 200
    printed = listener.wait_for("msg_hello")
    assert f'msg_hello #1 200 ContentEvent       {CONVERSATION} CONSUMER       "Hello from Consumer"' in printed


def test_a_retry_is_shown_as_one(listener: RunningListener) -> None:
    httpx.post(listener.url, content=HELLO, headers=signed(HELLO, message_id="msg_again", attempt=2))
    assert "msg_again #2 retry 200 ContentEvent" in listener.wait_for("msg_again")


def test_a_request_signed_with_the_old_secret_is_accepted(listener: RunningListener) -> None:
    answer = httpx.post(listener.url, content=CLOSE, headers=signed(CLOSE, message_id="msg_old_secret"))
    assert answer.status_code == 200
    assert "UPSERT CLOSE closeReason CONSUMER" in listener.wait_for("msg_old_secret")


def test_a_bad_signature_is_answered_401_and_the_reason_printed(listener: RunningListener) -> None:
    answer = httpx.post(listener.url, content=HELLO, headers=signed(HELLO, "wrong", message_id="msg_wrong"))
    assert answer.status_code == 401
    assert "msg_wrong #1 401 bad signature in x-liveperson-signature" in listener.wait_for("msg_wrong", "stderr")


def test_a_replay_stripped_of_its_timestamped_headers_is_answered_401(listener: RunningListener) -> None:
    """x-liveperson-signature alone has no timestamp: a captured request would verify for ever."""
    headers = {name: value for name, value in signed(HELLO).items() if not name.startswith("webhook-")}
    answer = httpx.post(listener.url, content=HELLO, headers=headers)
    assert answer.status_code == 401
    assert "- 401 missing header webhook-signature" in listener.wait_for(
        "401 missing header webhook-signature", "stderr"
    )


def test_the_secret_is_never_printed(listener: RunningListener) -> None:
    httpx.post(listener.url, content=HELLO, headers=signed(HELLO, "wrong", message_id="msg_secret"))
    listener.wait_for("msg_secret", "stderr")
    assert SECRET not in listener.stdout.read_text() + listener.stderr.read_text()


def test_a_post_to_another_path_is_answered_404(listener: RunningListener) -> None:
    answer = httpx.post(listener.url + "/elsewhere", content=HELLO, headers=signed(HELLO))
    assert answer.status_code == 404


def test_with_a_status_every_verified_request_gets_it(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--status", "503", "--path", "/hook") as running:
        answer = httpx.post(running.url + "/hook", content=HELLO, headers=signed(HELLO, message_id="msg_503"))
        assert answer.status_code == 503
        running.wait_for("msg_503 #1 503 ContentEvent")


def test_with_json_the_body_is_printed_exactly(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--json") as running:
        httpx.post(running.url, content=CLOSE, headers=signed(CLOSE)).raise_for_status()
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


def test_answering_a_2xx_other_than_200_or_201_warns_once_per_status(tmp_path: Path) -> None:
    with listening(tmp_path, "--secret", SECRET, "--status", "204") as running:
        for number in range(2):
            answer = httpx.post(running.url, content=HELLO, headers=signed(HELLO, message_id=f"msg_204_{number}"))
            assert answer.status_code == 204
        running.wait_for("msg_204_1")
        assert running.stderr.read_text().count("the platform counts only 200 and 201 as delivered") == 1
