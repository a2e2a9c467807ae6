"""The base of the manifest's models: strict pydantic, and the errors of our own rules.

Strictness is the point: ``"3"`` is not 3, ``true`` is not 1, ``2.5`` is not 2, ``null`` is not "absent", and a
key the platform does not know is an error rather than something silently dropped. Rules that need more than a
type (lengths after trimming, reserved headers, uniqueness) raise ``PydanticCustomError`` with our own stable
error code, so ``errors.py`` can report them without guessing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from appinstall.manifest.errors import RULE_PREFIX


def rule_error(code: str, message: str, context: dict[str, Any]) -> PydanticCustomError:
    """An error of one of our rules. The ``rule:`` prefix keeps our codes apart from pydantic's own types;
    ``context`` may carry a ``hint`` and an ``at`` (a location below the validated value)."""
    return PydanticCustomError(f"{RULE_PREFIX}{code}", message, context)


class StrictModel(BaseModel):
    """A model that coerces nothing and rejects keys it does not know."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_by_alias=True)


def reject_null(value: Any) -> Any:
    if value is None:
        raise rule_error("type", "must not be null", {"hint": "leave the key out instead of null"})
    return value


def unique(values: list[Any]) -> list[Any]:
    if len(set(values)) == len(values):
        return values
    seen: set[Any] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise rule_error(
                "duplicate",
                "{value} is listed more than once",
                {"value": repr(value), "at": (index,), "hint": "remove the repeated value"},
            )
        seen.add(value)
    return values


# An array whose items must differ, as the schema publishes it (``unique`` checks it with a located error).
UNIQUE = Field(json_schema_extra={"uniqueItems": True})
