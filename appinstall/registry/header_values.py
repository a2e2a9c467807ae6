"""Webhook header values are secrets: sealed in the stored manifest, masked on the wire when secrets are.

A manifest's webhook ``headers`` usually carry what the receiver authenticates the platform with (an
``Authorization`` or an API key), as sensitive as the client secret. So each ``header_value`` is stored sealed by
the master keyring (AES-GCM, bound to the installation), as ``sealed:v1:<base64>`` in the manifest's JSON;
everything else in the manifest stays readable for queries and people. Reads that need the values (the API, the
webhook worker) open them; a value stored before sealing (no prefix) reads as it is until the migration that
seals it has run. With ``APPINSTALL_MASK_CLIENT_SECRET`` the API shows each value as ``MASK``; a PUT or PATCH that
sends ``MASK`` back keeps the stored value, so a client's GET-then-PUT round trip does not overwrite it.

Pure functions of a manifest document and a keyring: no I/O.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any, Final

from appinstall.errors import Invalid
from appinstall.manifest import Problem
from appinstall.manifest.vocabulary import WEBHOOK_KEYS
from appinstall.store.keyring import Keyring, key_id_of

SEALED: Final = "sealed:v1:"
MASK: Final = "…"

Document = dict[str, Any]


def _context(installation_id: str) -> str:
    return f"{installation_id}:webhook-header"


def _webhooks(document: Document) -> dict[str, Any]:
    webhooks = (document.get("capabilities") or {}).get("webhooks") or {}
    return {event: hook for event, hook in webhooks.items() if event in WEBHOOK_KEYS and isinstance(hook, dict)}


def _with_values(document: Document, change: Callable[[str], str]) -> Document:
    """A copy of ``document`` with each header value replaced by ``change(value)``; ``document`` is not touched."""
    if not any(hook.get("headers") for hook in _webhooks(document).values()):
        return document
    changed = copy.deepcopy(document)
    for hook in _webhooks(changed).values():
        for header in hook.get("headers") or []:
            header["header_value"] = change(header["header_value"])
    return changed


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED)


def has_plain_values(document: Document) -> bool:
    """Whether a stored manifest still holds a header value in plain text (stored before sealing)."""
    return any(
        not is_sealed(header["header_value"])
        for hook in _webhooks(document).values()
        for header in hook.get("headers") or []
    )


def seal_values(document: Document, keyring: Keyring, installation_id: str) -> Document:
    """The manifest as stored: each header value sealed (a value sealed already is left as it is)."""
    context = _context(installation_id)

    def seal(value: str) -> str:
        if is_sealed(value):
            return value
        return SEALED + base64.b64encode(keyring.seal(value, context)).decode("ascii")

    return _with_values(document, seal)


def open_values(document: Document, keyring: Keyring, installation_id: str) -> Document:
    """The manifest as stored, with each header value opened."""
    context = _context(installation_id)

    def open_(value: str) -> str:
        if not is_sealed(value):
            return value
        return keyring.open(base64.b64decode(value[len(SEALED) :]), context)

    return _with_values(document, open_)


def reseal_values(document: Document, keyring: Keyring, installation_id: str) -> Document | None:
    """The manifest with every value sealed by the current master key, or None if all are already."""
    current = all(
        keyring.is_current(base64.b64decode(header["header_value"][len(SEALED) :]))
        for hook in _webhooks(document).values()
        for header in hook.get("headers") or []
        if is_sealed(header["header_value"])
    )
    if current and not has_plain_values(document):
        return None
    return seal_values(open_values(document, keyring, installation_id), keyring, installation_id)


def without_unreadable_values(document: Document, keyring: Keyring) -> tuple[Document, list[tuple[str, str]]]:
    """The manifest without the headers whose value was sealed by a master key the keyring lacks (a lost key), and
    which ones were dropped: (event type, header name). ``document`` is not touched."""
    dropped: list[tuple[str, str]] = []
    changed = copy.deepcopy(document)
    for event_type, hook in _webhooks(changed).items():
        kept = []
        for header in hook.get("headers") or []:
            value = header["header_value"]
            if is_sealed(value) and key_id_of(base64.b64decode(value[len(SEALED) :])) not in keyring.key_ids:
                dropped.append((event_type, header["header_name"]))
            else:
                kept.append(header)
        if "headers" in hook:
            hook["headers"] = kept
    return (changed if dropped else document), dropped


def masked_values(document: Document) -> Document:
    """The manifest as shown when secrets are masked: each header value is ``MASK``."""
    return _with_values(document, lambda _: MASK)


def keep_masked_values(document: Document, current: Document) -> Document:
    """``document`` (a PUT or PATCH) with each header value sent as ``MASK`` replaced by the stored one.

    The stored value is that of the same header name (ignoring case) of the same event type's webhook; a masked
    value with none to keep is refused, since ``MASK`` itself is never meant to be sent to a receiver.
    """
    known = {
        (event, header["header_name"].lower()): header["header_value"]
        for event, hook in _webhooks(current).items()
        for header in hook.get("headers") or []
    }
    missing: list[Problem] = []
    changed = copy.deepcopy(document)
    for event, hook in _webhooks(changed).items():
        for index, header in enumerate(hook.get("headers") or []):
            if header["header_value"] != MASK:
                continue
            kept = known.get((event, header["header_name"].lower()))
            if kept is None:
                pointer = f"/capabilities/webhooks/{event}/headers/{index}/header_value"
                missing.append(
                    Problem(
                        pointer,
                        "masked_value",
                        "is the mask of a value this webhook does not have",
                        "send the receiver's real value",
                    )
                )
            else:
                header["header_value"] = kept
    if missing:
        raise Invalid(
            "invalid-manifest",
            f"a header value is {MASK!r}, the mask the API shows for stored values, but there is no stored value "
            "to keep; send the real value",
            problems=missing,
        )
    return changed
