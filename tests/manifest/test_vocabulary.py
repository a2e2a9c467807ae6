"""The manifest's vocabulary: the event types and engagement values, defined once and spelled nowhere else."""

from __future__ import annotations

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

import appinstall
from appinstall.connector import receiving
from appinstall.manifest import vocabulary
from appinstall.manifest.engagement import Engagement
from appinstall.manifest.subscriptions import Webhooks
from appinstall.manifest.vocabulary import (
    ACCEPT_STATUS_EVENT,
    CHAT_STATE_EVENT,
    CONTENT_EVENT,
    ENGAGEMENT_VOCABULARIES,
    EVENT_TYPES,
    EVENTS,
    EX_CONVERSATION_CHANGE,
    LEGACY_EX_CONVERSATION_CHANGE,
    MESSAGING_EVENTS,
    event_type_named,
    short_event_name,
)
from appinstall.sandbox import models as sandbox

PACKAGE = Path(appinstall.__file__).parent
VOCABULARY = Path(vocabulary.__file__)
# Modules allowed to spell an event type, each with the reason. None today: keep it that way.
EXCEPTIONS: dict[str, str] = {}

# The seed's five, spelled here on purpose: the vocabulary must keep them (it may grow).
SEED_EVENT_TYPES = (
    "ms.MessagingEventNotification.ContentEvent",
    "ms.MessagingEventNotification.RichContentEvent",
    "ms.MessagingEventNotification.AcceptStatusEvent",
    "ms.MessagingEventNotification.ChatStateEvent",
    "cqm.ExConversationChangeNotification",
)


def test_the_event_types_begin_with_the_seeds_five_in_its_order() -> None:
    assert EVENT_TYPES[: len(SEED_EVENT_TYPES)] == SEED_EVENT_TYPES


def test_each_event_type_has_its_own_name_field_and_short_name() -> None:
    for attribute in ("name", "field", "short_name"):
        values = [getattr(event, attribute) for event in EVENTS]
        assert len(set(values)) == len(values), attribute


def test_the_conversation_change_is_the_cqm_notification_and_no_messaging_event() -> None:
    assert EX_CONVERSATION_CHANGE.startswith("cqm.")
    assert short_event_name(EX_CONVERSATION_CHANGE) not in MESSAGING_EVENTS


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("ContentEvent", CONTENT_EVENT),
        ("contentevent", CONTENT_EVENT),
        (CHAT_STATE_EVENT, CHAT_STATE_EVENT),
        ("ExConversationChangeNotification", EX_CONVERSATION_CHANGE),
        ("ConversationChange", EX_CONVERSATION_CHANGE),
        (LEGACY_EX_CONVERSATION_CHANGE, EX_CONVERSATION_CHANGE),
    ],
)
def test_an_event_type_may_be_named_by_its_full_or_short_name(name: str, meant: str) -> None:
    assert event_type_named(name) == meant


@pytest.mark.parametrize("name", ["TypingEvent", "", "ms.MessagingEventNotification", "retry"])
def test_a_name_that_is_no_event_type_means_none(name: str) -> None:
    assert event_type_named(name) is None


def test_the_short_name_is_what_listings_print() -> None:
    assert [short_event_name(name) for name in SEED_EVENT_TYPES] == [
        "ContentEvent",
        "RichContentEvent",
        "AcceptStatusEvent",
        "ChatStateEvent",
        "ExConversationChangeNotification",
    ]
    assert short_event_name(ACCEPT_STATUS_EVENT) == "AcceptStatusEvent"


def test_the_webhooks_model_has_one_field_per_event_type_under_its_name_then_the_retry_policy() -> None:
    fields = [(name, field.alias) for name, field in Webhooks.model_fields.items()]
    assert fields == [(event.field, event.name) for event in EVENTS] + [("retry", None)]


def test_the_engagement_model_types_each_list_by_its_vocabulary() -> None:
    for name, values in ENGAGEMENT_VOCABULARIES.items():
        annotation = Engagement.model_fields[name].annotation
        [item] = typing.get_args(annotation)
        assert typing.get_args(item) == values, name


def _wire_types(union: object) -> set[str]:
    """The ``type`` literals of the models in an (annotated) union of event models."""
    types: set[str] = set()
    for member in typing.get_args(union):
        for model in typing.get_args(member) or (member,):
            field = getattr(model, "model_fields", {}).get("type")
            if field is not None and typing.get_origin(field.annotation) is typing.Literal:
                types.update(typing.get_args(field.annotation))
    return types


@pytest.mark.parametrize("union", [receiving.Event, sandbox.Event], ids=["receiving SDK", "sandbox Send API"])
def test_the_typed_event_models_are_of_the_vocabularys_messaging_events(union: object) -> None:
    assert _wire_types(union) and _wire_types(union) <= set(MESSAGING_EVENTS)


# --- Spelled once ---------------------------------------------------------------------------------------------

_NAMES = {
    *EVENT_TYPES,
    LEGACY_EX_CONVERSATION_CHANGE,
    vocabulary.MESSAGING,
    vocabulary.MESSAGING + ".",
    *(event.field for event in EVENTS),
}
_SHORT_NAMES = {event.short_name for event in EVENTS}
_ENGAGEMENT_VALUES = [set(values) for values in ENGAGEMENT_VOCABULARIES.values()]


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _strings(nodes: list[ast.expr]) -> list[str]:
    return [node.value for node in nodes if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def _exports(tree: ast.AST) -> set[int]:
    """The ``__all__`` lists: names of classes (``ContentEvent``), not the vocabulary."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "__all__" for target in node.targets)
    }


def _enumerations(tree: ast.AST) -> Iterator[tuple[ast.AST, list[str]]]:
    """Every display of strings: tuples, lists, sets, dict keys, and the values of ``Literal[...]``."""
    exports = _exports(tree)
    for node in ast.walk(tree):
        if id(node) in exports:
            continue
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            yield node, _strings(node.elts)
        elif isinstance(node, ast.Dict):
            yield node, _strings([key for key in node.keys if key is not None])
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            yield node, _strings(node.slice.elts)


def _spellings(path: Path) -> Iterator[str]:
    """Where a module spells the vocabulary out: an event type's name, or an enumeration of the vocabulary."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in _NAMES:
                yield f"line {node.lineno}: {node.value!r}"
            elif len({name for name in _SHORT_NAMES if name in node.value}) >= 3:
                yield f"line {node.lineno}: a listing of event types in {node.value[:40]!r}…"
    for node, strings in _enumerations(tree):
        line = getattr(node, "lineno", "?")
        if len(set(strings) & (_SHORT_NAMES | _NAMES)) >= 2:
            yield f"line {line}: an enumeration of event types {strings}"
        if len(set(strings)) >= 2 and any(set(strings) <= values for values in _ENGAGEMENT_VALUES):
            yield f"line {line}: an enumeration of engagement values {strings}"


def test_no_module_spells_out_an_event_type_or_enumerates_the_vocabulary() -> None:
    """A newcomer adds an event type by editing ``vocabulary.py`` alone; a copy elsewhere would be left behind.

    One event's own wire model or payload may write its ``type`` once (``Literal["ContentEvent"]``, an event
    built for a sample): that is its shape on the wire, not a list of the vocabulary.
    """
    found = {
        str(path.relative_to(PACKAGE.parent)): spellings
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != VOCABULARY and str(path.relative_to(PACKAGE.parent)) not in EXCEPTIONS
        for spellings in [list(_spellings(path))]
        if spellings
    }
    assert found == {}, "define these in appinstall/manifest/vocabulary.py and derive them from there"


def test_the_scan_finds_what_it_is_for(tmp_path: Path) -> None:
    module = tmp_path / "copy.py"
    module.write_text(
        '"""A module docstring may name ms.MessagingEventNotification.ContentEvent."""\n'
        f'KNOWN = ("ContentEvent", "ChatStateEvent")\nKEY = "{CONTENT_EVENT}"\nVALUES = ["section", "url"]\n'
        'ONE = {"type": "ContentEvent"}\n'
    )
    assert [spelling.split(":")[0] for spelling in _spellings(module)] == ["line 3", "line 2", "line 4"]
