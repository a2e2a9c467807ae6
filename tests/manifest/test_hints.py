from typing import Any

import pytest

from appinstall.manifest import hints, vocabulary


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (3.0, "write a whole number: 3"),
        (2.5, "write a whole number, such as 2 or 3"),
        ("3", "write the number without quotes: 3"),
        (True, "write a number, not true: for example 1"),
        (None, "leave the key out instead of null"),
    ],
)
def test_an_integer_written_otherwise_gets_the_integer_to_write(value: Any, hint: str) -> None:
    assert hints.type_hint("integer", value) == hint


@pytest.mark.parametrize(
    ("value", "hint"),
    [(0, "write false instead of 0"), ("true", "write the boolean without quotes: true")],
)
def test_a_boolean_written_otherwise_gets_the_boolean_to_write(value: Any, hint: str) -> None:
    assert hints.type_hint("boolean", value) == hint


def test_a_single_value_where_an_array_belongs_is_shown_inside_one() -> None:
    assert hints.type_hint("array", "client_credentials") == 'put the value in an array: ["client_credentials"]'


def test_an_array_of_words_where_a_string_belongs_is_shown_joined() -> None:
    hint = hints.type_hint("string", ["msg.consumer", "other"])
    assert hint == 'write one string, not an array: "msg.consumer other"'


def test_a_url_where_a_webhook_belongs_is_shown_as_its_endpoint() -> None:
    hint = hints.type_hint("object", "https://example.com/", ["endpoint", "max_retries", "headers"])
    assert hint == 'write an object: {"endpoint": "https://example.com/"}'


def test_an_object_hint_names_the_keys_it_may_hold() -> None:
    assert hints.type_hint("object", [], ["a", "b"]) == "write an object { … } with the keys a, b"


def test_max_retries_out_of_range_points_to_retention_time() -> None:
    assert hints.range_hint("max_retries", 0, 5) == "0 to 5; for longer retries use retry.retention_time"


def test_retention_time_out_of_range_says_three_days_at_most() -> None:
    assert "3 days at most" in hints.range_hint("retention_time", 2, 259200)


def test_other_numbers_out_of_range_get_their_bounds() -> None:
    assert hints.range_hint("other", 1, 9) == "use a value from 1 to 9"


def test_a_too_long_string_says_by_how_much() -> None:
    assert hints.length_hint(130, 128) == "shorten it by 2 characters, to 128 at most"


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("ms.MessagingEventNotification.TypingEvent", vocabulary.CHAT_STATE_EVENT),
        ("ms.MessagingEventNotification.ReadReceipt", vocabulary.ACCEPT_STATUS_EVENT),
        ("ms.MessagingEventNotification.RichMessage", vocabulary.RICH_CONTENT_EVENT),
        ("ms.MessagingEventNotification.MessageEvent", vocabulary.CONTENT_EVENT),
        ("ms.MessagingEventNotification.ConversationClosed", vocabulary.EX_CONVERSATION_CHANGE),
    ],
)
def test_an_event_named_by_what_it_carries_points_to_the_type_that_carries_it(key: str, meant: str) -> None:
    suggested, hint = hints.event_key_suggestion(key)
    assert suggested == meant
    assert hint.endswith(f"did you mean {meant!r}?")


def test_typing_is_explained_as_a_chat_state() -> None:
    _, hint = hints.event_key_suggestion("ms.MessagingEventNotification.TypingEvent")
    assert hint.startswith("typing and presence come as ChatStateEvent")


@pytest.mark.parametrize(
    "key", ["ms.MessagingEventNotification.ContentEvents", "ContentEvent", "content_event", "CONTENTEVENT"]
)
def test_a_misspelt_or_short_event_key_suggests_the_full_key(key: str) -> None:
    assert hints.event_key_suggestion(key) == (vocabulary.CONTENT_EVENT, f"did you mean {vocabulary.CONTENT_EVENT!r}?")


def test_an_event_key_like_no_event_suggests_none() -> None:
    suggested, hint = hints.event_key_suggestion("unexpected")
    assert suggested is None and hint


def test_the_unknown_event_message_lists_the_five_event_types() -> None:
    message = hints.unknown_event_message("x")
    assert all(event in message for event in vocabulary.EVENT_TYPES)
