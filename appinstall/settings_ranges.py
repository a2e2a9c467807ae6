"""What each setting accepts, in words, read from the settings model itself.

Two readers need the same sentence: the configuration table of the docs (its "Allowed" column, see
``appinstall.reference``) and the start-up error that names a setting whose value does not fit (see
``appinstall.cli.startup_errors``). Writing it once, from the field's type and bounds, keeps them in step with the
code: change a ``ge=`` and both the table and the error change with it.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from appinstall.settings import Settings

ENV_PREFIX = "APPINSTALL_"

# What a few fields hold, where the type alone says too little.
_SPECIAL = {
    "database_url": "postgresql://…, postgres://… (both mean postgresql+asyncpg://…) or sqlite+aiosqlite:///…",
    "master_key": "base64 of 32 bytes (`appinstall keygen`); older keys after commas",
    "webhook_allow_cidrs": 'a JSON list of CIDRs, e.g. ["10.1.0.0/16"]',
}


def env_name(field_name: str) -> str:
    """The environment variable of a settings field: ``token_ttl_seconds`` → ``APPINSTALL_TOKEN_TTL_SECONDS``."""
    return ENV_PREFIX + field_name.upper()


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _bounds(field: FieldInfo) -> str:
    lower = upper = ""
    for rule in field.metadata:
        if isinstance(rule, Ge):
            lower = f"≥ {_number(rule.ge)}"
        elif isinstance(rule, Gt):
            lower = f"> {_number(rule.gt)}"
        elif isinstance(rule, Le):
            upper = f"≤ {_number(rule.le)}"
        elif isinstance(rule, Lt):
            upper = f"< {_number(rule.lt)}"
    if lower.startswith("≥") and upper.startswith("≤"):
        return f"{lower[2:]} to {upper[2:]}"
    return ", ".join(part for part in (lower, upper) if part)


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        kept = [arg for arg in get_args(annotation) if arg is not type(None)]
        return kept[0] if len(kept) == 1 else annotation
    return annotation


def allowed(field_name: str) -> str:
    """What ``field_name`` accepts, e.g. ``an integer, 60 to 86400`` or ``true or false``."""
    if field_name in _SPECIAL:
        return _SPECIAL[field_name]
    field = Settings.model_fields[field_name]
    annotation = _without_none(field.annotation)
    if get_origin(annotation) is Literal:
        choices = [str(choice) for choice in get_args(annotation)]
        return "one of " + ", ".join(choices)
    if annotation is bool:
        return "true or false"
    if annotation is Path:
        return "a path"
    if annotation is SecretStr or annotation is str:
        return "text"
    kind = {int: "an integer", float: "a number"}.get(annotation, "a value")
    bounds = _bounds(field)
    return f"{kind}, {bounds}" if bounds else kind
