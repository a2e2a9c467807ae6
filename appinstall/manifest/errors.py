"""Validation problems: one shape for every error and warning, addressed by RFC 6901 JSON pointer.

Pydantic reports errors by location tuple and its own error type; people (and the HTTP API, and the CLI) want a
pointer into the document they wrote, a stable code to branch on, a sentence, and a hint. This module is the
translation, kept apart from the models so the rules stay readable.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

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
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Translate every pydantic error of a validation against ``root`` into a ``Problem``."""
    return [_problem(detail, root) for detail in error.errors(include_url=False, include_input=True)]


def _problem(detail: ErrorDetails, root: type[BaseModel]) -> Problem:
    kind = detail["type"]
    location: list[str | int] = list(detail["loc"])
    context: dict[str, Any] = dict(detail.get("ctx") or {})
    location.extend(context.get("at", ()))
    where = pointer(location)

    if kind.startswith(RULE_PREFIX):
        return Problem(where, kind.removeprefix(RULE_PREFIX), detail["msg"], context.get("hint"))
    if kind in _TYPE_NAMES:
        return Problem(where, "type", f"must be {_TYPE_NAMES[kind]}", _type_hint(detail.get("input")))
    if kind == "missing":
        return Problem(where, "required", "is required", None)
    if kind == "extra_forbidden":
        key = str(location[-1])
        known = _known_keys(root, location[:-1])
        return Problem(where, "unknown_key", f"{key!r} is not a known key here", _did_you_mean(key, known))
    if kind == "literal_error":
        allowed = _allowed_literals(root, location)
        value = detail.get("input")
        hint = _did_you_mean(value, allowed) if isinstance(value, str) else None
        return Problem(where, "not_allowed", f"must be one of: {', '.join(allowed)}", hint)
    if kind == "string_too_long":
        limit = context["max_length"]
        length = len(detail.get("input") or "")
        return Problem(where, "too_long", f"has {length} characters; the limit is {limit}", None)
    if kind == "too_long":
        return Problem(where, "too_many", f"holds more than {context['max_length']} items", None)
    if kind == "greater_than_equal":
        return Problem(where, "too_small", f"must be at least {context['ge']}", None)
    if kind == "less_than_equal":
        return Problem(where, "too_large", f"must be at most {context['le']}", None)
    return Problem(where, "invalid", detail["msg"], None)


def _type_hint(value: Any) -> str | None:
    """Point out the common JSON slips: a number or boolean written as a string, and the reverse."""
    if isinstance(value, str):
        if value.strip().lstrip("-").isascii() and value.strip().lstrip("-").isdigit():
            return f"write the number without quotes: {value.strip()}"
        if value.strip().lower() in ("true", "false"):
            return f"write the boolean without quotes: {value.strip().lower()}"
    if value is None:
        return "leave the key out instead of null"
    return None


def _did_you_mean(word: str, candidates: Sequence[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    if not close:
        lowered = {candidate.lower(): candidate for candidate in candidates}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"did you mean {close[0]!r}?" if close else None


# --- Walking the model along an error's location -------------------------------------------------------------


def _unwrap(annotation: Any) -> list[Any]:
    """The types an annotation can hold, looking through Optional, unions, lists and Annotated."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType, list):
        return [inner for arg in typing.get_args(annotation) for inner in _unwrap(arg)]
    return [annotation]


def _annotation_at(root: type[BaseModel], location: Sequence[str | int]) -> Any:
    annotation: Any = root
    for part in location:
        if isinstance(part, int):
            continue  # list indexes are looked through by _unwrap
        model = next((t for t in _unwrap(annotation) if isinstance(t, type) and issubclass(t, BaseModel)), None)
        if model is None:
            return None
        field = next(
            (f for name, f in model.model_fields.items() if (f.alias or name) == part),
            None,
        )
        if field is None:
            return None
        annotation = field.annotation
    return annotation


def _known_keys(root: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    annotation = _annotation_at(root, location)
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return [field.alias or name for name, field in candidate.model_fields.items()]
    return []


def _allowed_literals(root: type[BaseModel], location: Sequence[str | int]) -> list[str]:
    annotation = _annotation_at(root, location)
    allowed: list[str] = []
    for candidate in _unwrap(annotation):
        if typing.get_origin(candidate) is typing.Literal:
            allowed.extend(str(arg) for arg in typing.get_args(candidate))
    return allowed
