"""Hints: the second half of every problem, saying how to fix it rather than only what is wrong.

Pure functions of the offending value and what was expected, so that each can be unit-tested without a model.
``errors.py`` decides which one applies to a pydantic error; the wording lives here.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Sequence
from typing import Any, Final

from appinstall.manifest import rules, vocabulary
from appinstall.manifest.vocabulary import EVENT_TYPES, event_type_named, short_event_name

# --- Typos ------------------------------------------------------------------------------------------------------


def close_match(word: str, candidates: Sequence[str], *, cutoff: float = 0.6) -> str | None:
    """The candidate ``word`` was most likely meant to be: the closest spelling, or the same word in another case."""
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
    if close:
        return close[0]
    lowered = {candidate.lower(): candidate for candidate in candidates}
    return lowered.get(word.lower())


def did_you_mean(word: str) -> str:
    return f"did you mean {word!r}?"


def one_of(candidates: Sequence[str]) -> str:
    return ", ".join(candidates)


# --- Event types ----------------------------------------------------------------------------------------------


def _alphanumeric(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def event_key_suggestion(key: str) -> tuple[str | None, str]:
    """For a key under ``capabilities.webhooks`` that is no event type: the event type it most
    likely means (or None) and a hint saying so.

    A plain closest-spelling match misleads here: every key shares the long ``ms.MessagingEventNotification.``
    prefix, so ``…TypingEvent`` looks closest to ``…ContentEvent``. So the short names are compared, and a word
    that names what a notification is about (typing, read receipts) points to the type that carries it.
    """
    short = short_event_name(key)
    meant = event_type_named(key) or event_type_named(short) or event_type_named(_alphanumeric(key))
    if meant is None:
        by_short_name = {short_event_name(event).lower(): event for event in EVENT_TYPES}
        close = difflib.get_close_matches(short.lower(), list(by_short_name), n=1, cutoff=0.85)
        meant = by_short_name[close[0]] if close else None
    if meant is not None:
        return meant, did_you_mean(meant)
    words = _alphanumeric(short)
    # What people call a notification when they do not know the platform's name for it, most specific first.
    for event in sorted(vocabulary.EVENTS, key=lambda event: event.hint_rank):
        if any(word in words for word in event.words):
            return event.name, f"{event.about} come as {event.short_name}: did you mean {event.name!r}?"
    return None, "write the event type exactly as listed, case included"


_COUNTS: Final = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def unknown_event_message(key: str) -> str:
    count = _COUNTS[len(EVENT_TYPES)] if len(EVENT_TYPES) < len(_COUNTS) else str(len(EVENT_TYPES))
    return f"{key!r} is not one of the {count} event types: {one_of(EVENT_TYPES)}"


# --- Types ----------------------------------------------------------------------------------------------------


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _integer_hint(value: Any) -> str:
    if isinstance(value, bool):
        return f"write a number, not {_json(value)}: for example {int(value)}"
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return f"write a whole number: {int(value)}"
        return f"write a whole number, such as {math.floor(value)} or {math.ceil(value)}"
    if isinstance(value, str) and value.strip().lstrip("-").isascii() and value.strip().lstrip("-").isdigit():
        return f"write the number without quotes: {value.strip()}"
    return "write a whole number without quotes, for example 3"


def _boolean_hint(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f"write the boolean without quotes: {value.strip().lower()}"
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return f"write {_json(bool(value))} instead of {value}"
    return "write true or false, without quotes"


def _string_hint(value: Any) -> str:
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return f"write one string, not an array: {_json(' '.join(value))}"
    if isinstance(value, (int, float)):
        return f"put the value in double quotes: {_json(_json(value))}"
    return 'write a string in double quotes, for example "text"'


def _array_hint(value: Any) -> str:
    if isinstance(value, (str, int, float)):
        return f"put the value in an array: [{_json(value)}]"
    return "write an array: [ … ]"


def _object_hint(value: Any, keys: Sequence[str]) -> str:
    if isinstance(value, str) and value.startswith(("https://", "http://")) and "endpoint" in keys:
        return f"write an object: {_json({'endpoint': value})}"
    if keys:
        return f"write an object {{ … }} with the keys {one_of(keys)}"
    return "write an object { … }"


def type_hint(expected: str, value: Any, keys: Sequence[str] = ()) -> str:
    """How to write ``value`` as the ``expected`` JSON type (integer, boolean, string, array or object).

    ``keys`` are the keys an expected object may hold, named so that a person knows what to write inside.
    """
    if value is None:
        return "leave the key out instead of null"
    if expected == "integer":
        return _integer_hint(value)
    if expected == "boolean":
        return _boolean_hint(value)
    if expected == "string":
        return _string_hint(value)
    if expected == "array":
        return _array_hint(value)
    return _object_hint(value, keys)


# --- Ranges and lengths ---------------------------------------------------------------------------------------

# Fields whose bounds have a reason worth telling, by key name.
_RANGE_HINTS: Final = {
    "max_retries": f"0 to {rules.MAX_RETRIES_MAX}; for longer retries use retry.retention_time",
    "retention_time": f"{rules.RETENTION_TIME_MIN} to {rules.RETENTION_TIME_MAX} seconds: 3 days at most",
}


def range_hint(key: str | int | None, low: int | None, high: int | None) -> str:
    """What values a number may take, and for the manifest's own numbers why."""
    if isinstance(key, str) and key in _RANGE_HINTS:
        return _RANGE_HINTS[key]
    if low is not None and high is not None:
        return f"use a value from {low} to {high}"
    return f"use a value of at least {low}" if low is not None else f"use a value of at most {high}"


def length_hint(length: int, limit: int) -> str:
    return f"shorten it by {length - limit} characters, to {limit} at most"


def items_hint(count: int | None, limit: int) -> str:
    if count is None:
        return f"keep {limit} items at most"
    return f"remove {count - limit} of the {count} items, to keep {limit} at most"
