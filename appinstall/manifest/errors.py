"""Validation problems: one shape for every error and warning, addressed by RFC 6901 JSON pointer.

Pydantic reports errors by location tuple and its own error type; people (and the HTTP API, and the CLI) want a
pointer into the document they wrote, a stable code to branch on, a sentence, and a hint that says how to fix it.
This module is the translation, kept apart from the models so the rules stay readable; the hints' wording is in
``hints.py``.

One step goes beyond translating: a key that is unknown but close to a known one (``webhoks``) is most likely that
key misspelt, so its value is also validated as the key it was meant to be and those problems are reported under
the misspelt key. Otherwise one typo in a parent would hide every error below it until the typo is fixed.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from appinstall.manifest import hints, vocabulary

RULE_PREFIX = "rule:"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with (or worth knowing about) a document."""

    pointer: str
    code: str
    message: str
    hint: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        return asdict(self)


def pointer(location: Iterable[str | int]) -> str:
    """Build an RFC 6901 JSON pointer, escaping ``~`` and ``/`` in keys."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in location)


_TYPE_NAMES = {
    "string_type": ("a string", "string"),
    "int_type": ("an integer", "integer"),
    "int_from_float": ("an integer", "integer"),
    "bool_type": ("true or false", "boolean"),
    "list_type": ("an array", "array"),
    "dict_type": ("an object", "object"),
    "model_type": ("an object", "object"),
    "model_attributes_type": ("an object", "object"),
}


def problems_from(error: ValidationError, root: Any, context: dict[str, Any] | None = None) -> list[Problem]:
    """Translate every pydantic error of a validation against ``root`` (a model or a type) into ``Problem``\\ s.

    ``context`` is the validation context, passed on when the value of a misspelt key is validated in its turn.
    """
    problems: list[Problem] = []
    for detail in error.errors(include_url=False, include_input=True):
        problems.extend(_problems(detail, root, context))
    return problems


def _problems(detail: ErrorDetails, root: Any, context: dict[str, Any] | None) -> list[Problem]:
    if detail["type"] != "extra_forbidden":
        return [_problem(detail, root)]
    location: list[str | int] = list(detail["loc"])
    key = str(location[-1])
    known = _known_keys(root, location[:-1])
    if vocabulary.CONTENT_EVENT in known and hints.close_match(key, ["retry"]) is None:
        meant, hint = hints.event_key_suggestion(key)
        problem = Problem(pointer(location), "unknown_key", hints.unknown_event_message(key), hint)
    else:
        meant = hints.close_match(key, known)
        hint = hints.did_you_mean(meant) if meant else f"remove it; the keys allowed here are {hints.one_of(known)}"
        problem = Problem(pointer(location), "unknown_key", f"{key!r} is not a known key here", hint)
    if meant is None:
        return [problem]
    return [problem, *_as_meant(root, location, meant, detail.get("input"), context)]


def _as_meant(
    root: Any, location: Sequence[str | int], meant: str, value: Any, context: dict[str, Any] | None
) -> list[Problem]:
    """The problems of ``value`` validated as the value of key ``meant``, pointing at the key as written.

    Only for parents (keys that hold objects, or arrays of them): a misspelt scalar's value is better judged
    once the key is fixed than reported twice.
    """
    model = _model_at(root, location[:-1])
    field = None if model is None else _fields_by_key(model).get(meant)
    if model is None or field is None or _model_in(field.annotation) is None:
        return []
    try:
        _adapter(model, meant).validate_python(value, context=dict(context or {}))
    except ValidationError as error:
        meant_location = (*location[:-1], meant)
        meant_at, written_at = pointer(meant_location), pointer(location)
        problems = []
        for detail in error.errors(include_url=False, include_input=True):
            detail["loc"] = (*meant_location, *detail["loc"])
            for problem in _problems(detail, root, context):
                problems.append(replace(problem, pointer=written_at + problem.pointer.removeprefix(meant_at)))
        return problems
    return []


def _problem(detail: ErrorDetails, root: Any) -> Problem:
    kind = detail["type"]
    location: list[str | int] = list(detail["loc"])
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    location.extend(context.get("at", ()))
    where = pointer(location)
    key = location[-1] if location else None
    value = detail.get("input")

    if kind.startswith(RULE_PREFIX):
        return Problem(where, kind.removeprefix(RULE_PREFIX), detail["msg"], context.get("hint"))
    if kind in _TYPE_NAMES:
        name, expected = _TYPE_NAMES[kind]
        if not location:
            return Problem(where, "type", f"must be {name}", 'a manifest is one JSON object: {"client_name": "…"}')
        keys = _known_keys(root, location) if expected == "object" else ()
        return Problem(where, "type", f"must be {name}", hints.type_hint(expected, value, keys))
    if kind == "missing":
        return Problem(where, "required", "is required", _required_hint(root, location))
    if kind == "literal_error":
        allowed = _allowed_literals(root, location)
        meant = hints.close_match(value, allowed) if isinstance(value, str) else None
        hint = hints.did_you_mean(meant) if meant else "use one of the listed values, spelt exactly"
        return Problem(where, "not_allowed", f"must be one of: {hints.one_of(allowed)}", hint)
    if kind == "string_too_long":
        limit = context["max_length"]
        length = len(value or "")
        message = f"has {length} characters; the limit is {limit}"
        return Problem(where, "too_long", message, hints.length_hint(length, limit))
    if kind == "too_long":
        limit = context["max_length"]
        message = f"holds more than {limit} items"
        return Problem(where, "too_many", message, hints.items_hint(context.get("actual_length"), limit))
    if kind == "greater_than_equal":
        message = f"must be at least {context['ge']}"
        return Problem(where, "too_small", message, hints.range_hint(key, context["ge"], _bound(root, location, "le")))
    if kind == "less_than_equal":
        message = f"must be at most {context['le']}"
        return Problem(where, "too_large", message, hints.range_hint(key, _bound(root, location, "ge"), context["le"]))
    return Problem(where, "invalid", detail["msg"], "see the manifest reference in docs/manifest.md")


def _required_hint(root: Any, location: Sequence[str | int]) -> str:
    field = _field_at(root, location)
    key = location[-1] if location else ""
    if field is not None and field.description:
        return f"add {str(key)!r}: {field.description}"
    return f"add {str(key)!r}"


# --- Walking the model along an error's location -------------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation can hold, looking through Optional, unions, lists and Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [inner for arg in typing.get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    return next((t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), None)


@functools.cache
def _fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _field_at(root: Any, location: Sequence[str | int]) -> FieldInfo | None:
    """The field a location is in: its last key's (list indexes after it are looked through)."""
    for index in range(len(location) - 1, -1, -1):
        part = location[index]
        if isinstance(part, str):
            model = _model_at(root, location[:index])
            return None if model is None else _fields_by_key(model).get(part)
    return None


def _model_at(root: Any, location: Sequence[str | int]) -> type[BaseModel] | None:
    annotation: Any = root
    for part in location:
        if isinstance(part, int):
            continue
        model = _model_in(annotation)
        field = None if model is None else _fields_by_key(model).get(part)
        if field is None:
            return None
        annotation = field.annotation
    return _model_in(annotation)


def _field_type(model: type[BaseModel], key: str) -> Any:
    """A field's type with its constraints (length, range, validators), as a ``TypeAdapter`` needs it."""
    field = _fields_by_key(model)[key]
    return Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation


@functools.cache
def _adapter(model: type[BaseModel], key: str) -> TypeAdapter[Any]:
    return TypeAdapter(_field_type(model, key))


def _known_keys(root: Any, location: Sequence[str | int]) -> list[str]:
    model = _model_at(root, location)
    return [] if model is None else list(_fields_by_key(model))


def _bound(root: Any, location: Sequence[str | int], name: str) -> int | None:
    field = _field_at(root, location)
    for constraint in field.metadata if field is not None else ():
        if hasattr(constraint, name):
            bound = getattr(constraint, name)
            return bound if isinstance(bound, int) else None
    return None


def _allowed_literals(root: Any, location: Sequence[str | int]) -> list[str]:
    field = _field_at(root, location)
    allowed: list[str] = []
    for candidate in _unwrap(field.annotation if field is not None else None):
        if typing.get_origin(candidate) is typing.Literal:
            allowed.extend(str(arg) for arg in typing.get_args(candidate))
    return allowed
