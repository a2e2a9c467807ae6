"""The echo agent's script, as a pure function of the event it hears."""

from __future__ import annotations

from typing import Any

from appinstall.sandbox.echo import ECHO_AGENT, Accept, Publish, answer, echo_steps, effective_mode
from appinstall.sandbox.models import AcceptStatusEvent, AgentMode, Appended, ChatStateEvent, ContentEvent

TEXT = {"type": "ContentEvent", "message": "hello", "contentType": "text/plain"}


def heard(
    event: dict[str, Any], role: str = "CONSUMER", sequence: int | None = 4, agent_mode: AgentMode | None = None
) -> Appended:
    return Appended("123", "c-1", role, event, sequence, agent_mode)


def test_a_consumers_text_is_accepted_read_typed_and_repeated_in_that_order() -> None:
    assert echo_steps(heard(TEXT)) == (
        Accept(ECHO_AGENT),
        Publish(AcceptStatusEvent(type="AcceptStatusEvent", status="READ", sequenceList=[4])),
        Publish(ChatStateEvent(type="ChatStateEvent", chatState="COMPOSING")),
        Publish(ContentEvent(type="ContentEvent", message="hello", contentType="text/plain")),
    )


def test_the_reply_keeps_the_text_exactly() -> None:
    text = {**TEXT, "message": "  multi\nline, ünïcode 👋 "}
    reply = echo_steps(heard(text))[-1]
    assert isinstance(reply, Publish) and isinstance(reply.event, ContentEvent)
    assert reply.event.message == "  multi\nline, ünïcode 👋 "


def test_an_agents_own_message_gets_no_answer() -> None:
    assert echo_steps(heard(TEXT, role="ASSIGNED_AGENT")) == ()


def test_a_file_gets_no_answer() -> None:
    file = {"type": "ContentEvent", "message": {"caption": "invoice"}, "contentType": "hosted/file"}
    assert echo_steps(heard(file)) == ()


def test_text_of_another_content_type_gets_no_answer() -> None:
    assert echo_steps(heard({**TEXT, "contentType": "text/html"})) == ()


def test_rich_content_gets_no_answer() -> None:
    assert echo_steps(heard({"type": "RichContentEvent", "content": {"type": "vertical"}})) == ()


def test_a_read_receipt_gets_no_answer() -> None:
    assert echo_steps(heard({"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]})) == ()


def test_typing_gets_no_answer() -> None:
    assert echo_steps(heard({"type": "ChatStateEvent", "chatState": "COMPOSING"}, sequence=None)) == ()


def test_an_accounts_own_choice_overrides_the_servers() -> None:
    assert (effective_mode("off", "echo"), effective_mode("echo", "off")) == ("off", "echo")


def test_without_a_choice_of_its_own_an_account_follows_the_server() -> None:
    assert (effective_mode(None, "echo"), effective_mode(None, "off")) == ("echo", "off")


def test_an_account_whose_choice_was_echo_when_the_message_committed_gets_the_echo() -> None:
    assert answer(heard(TEXT, agent_mode="echo"), server_mode="off") == echo_steps(heard(TEXT))


def test_an_account_whose_choice_was_off_gets_nothing_from_a_server_wide_echo() -> None:
    assert answer(heard(TEXT, agent_mode="off"), server_mode="echo") == ()


def test_an_account_without_a_choice_gets_the_servers_agent() -> None:
    assert (answer(heard(TEXT), server_mode="echo"), answer(heard(TEXT), server_mode="off")) == (
        echo_steps(heard(TEXT)),
        (),
    )
