"""What installing a manifest over an installed app would change, by JSON pointer: a pure diff, no I/O.

``appinstall plan`` prints it, ``appinstall apply`` acts on it, and the console's "Review changes" step shows it,
so all three agree on what a change is. Server-owned fields (id, credentials, enabled, deleted) are not part of a
manifest and never show as changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from appinstall.manifest.errors import pointer
from appinstall.registry.models import SERVER_FIELDS

ChangeKind = Literal["added", "removed", "changed"]
_MISSING: Final = object()


@dataclass(frozen=True)
class Change:
    """One difference, at an RFC 6901 pointer into the manifest. ``old`` is unset when added, ``new`` when removed."""

    kind: ChangeKind
    pointer: str
    old: Any = field(default=None)
    new: Any = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"kind": self.kind, "pointer": self.pointer}
        if self.kind != "added":
            result["old"] = self.old
        if self.kind != "removed":
            result["new"] = self.new
        return result


def _same(old: Any, new: Any) -> bool:
    """JSON equality: unlike Python's, ``true`` is not ``1`` (also inside arrays and objects)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return isinstance(old, bool) and isinstance(new, bool) and old is new
    if isinstance(old, int | float) and isinstance(new, int | float):
        return old == new
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new, strict=True))
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[key], new[key]) for key in old)
    return type(old) is type(new) and bool(old == new)


def _compare(old: dict[str, Any], new: dict[str, Any], path: tuple[str, ...]) -> Iterator[Change]:
    for key in [*new, *(key for key in old if key not in new)]:
        before, after = old.get(key, _MISSING), new.get(key, _MISSING)
        where = pointer((*path, key))
        if before is _MISSING:
            yield Change("added", where, new=after)
        elif after is _MISSING:
            yield Change("removed", where, old=before)
        elif isinstance(before, dict) and isinstance(after, dict):
            yield from _compare(before, after, (*path, key))
        elif not _same(before, after):
            yield Change("changed", where, before, after)


def plan_changes(installed: dict[str, Any], manifest_document: dict[str, Any]) -> list[Change]:
    """What installing ``manifest_document`` over ``installed`` would change, by JSON pointer.

    ``installed`` is the object as the server serves it; its server-owned fields (id, credentials, enabled,
    deleted) are not part of the manifest and are ignored. ``manifest_document`` should be normalised
    (``validate_manifest(...).manifest.to_document()``), as the server stores it, or defaults it fills in would
    show as changes. Objects are compared key by key; arrays are compared as whole values.
    """
    current = {key: value for key, value in installed.items() if key not in SERVER_FIELDS}
    return list(_compare(current, manifest_document, ()))
