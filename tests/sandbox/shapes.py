"""Comparing a JSON document with a published example by shape, not by bytes.

Two documents match when they have the same keys at every level, lists of the same length whose elements match
one by one, the same JSON type everywhere, and equal values except at the paths named as instance-specific (ids,
timestamps, free text), where only the type must agree. Paths are JSON pointers in which ``*`` stands for any
list index: ``/body/changes/*/serverTimestamp``.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

# What belongs to one conversation, in a messaging notification: who, where and when.
MESSAGING_IDS = {
    "/body/changes/*/originatorId",
    "/body/changes/*/originatorMetadata/id",
    "/body/changes/*/serverTimestamp",
    "/body/changes/*/conversationId",
    "/body/changes/*/dialogId",
}


def json_type(value: Any) -> str:
    """The JSON type of a parsed value; integers and other numbers apart, since timestamps must stay integers."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: True is an int in Python
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def differences(
    actual: Any, expected: Any, volatile: Collection[str] = (), *, at: str = "", path: str = ""
) -> list[str]:
    """Every way ``actual`` differs from ``expected``, one sentence each, pointing where; empty when they match."""
    where = at or "/"
    if json_type(actual) != json_type(expected):
        return [f"{where}: {json_type(actual)} where the example has {json_type(expected)}"]
    if isinstance(expected, dict):
        found = [f"{where}: missing key {key!r}" for key in expected if key not in actual]
        found += [f"{where}: extra key {key!r}" for key in actual if key not in expected]
        for key in (key for key in expected if key in actual):
            found += differences(actual[key], expected[key], volatile, at=f"{at}/{key}", path=f"{path}/{key}")
        return found
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{where}: {len(actual)} items where the example has {len(expected)}"]
        found = []
        for index, (mine, theirs) in enumerate(zip(actual, expected, strict=True)):
            found += differences(mine, theirs, volatile, at=f"{at}/{index}", path=f"{path}/*")
        return found
    if path not in volatile and actual != expected:
        return [f"{where}: {actual!r} where the example has {expected!r}"]
    return []
