"""The manifest's field types: each a strict type, a published pattern or bound, and the check that explains it.

A value that fails gets our own error code and a hint (``rule_error``); the same pattern goes into the published
schema (``json_schema_extra``), so the validator and the schema decide alike (``rules.py`` holds the patterns).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AfterValidator, Field, StrictBool, StrictStr, ValidationInfo

from appinstall.manifest import rules
from appinstall.manifest.strict import rule_error

# --- Field checks whose rule is a published pattern --------------------------------------------------------


def _client_name(value: str) -> str:
    trimmed = value.strip(rules.WHITESPACE)
    if not trimmed:
        raise rule_error("blank", "must not be empty or only whitespace", {"hint": 'name the app, e.g. "My app"'})
    if len(trimmed) > rules.CLIENT_NAME_MAX:
        raise rule_error(
            "too_long",
            "has {length} characters after trimming; the limit is {limit}",
            {
                "length": len(trimmed),
                "limit": rules.CLIENT_NAME_MAX,
                "hint": f"shorten it by {len(trimmed) - rules.CLIENT_NAME_MAX} characters",
            },
        )
    if rules.has_control_character(trimmed):
        raise rule_error(
            "control_character",
            "must not contain control characters",
            {"hint": "remove tabs, line breaks and other invisible characters"},
        )
    if not rules.has_visible_character(trimmed):
        raise rule_error(
            "blank",
            "must not be made only of invisible characters (zero-width, other spaces, format characters)",
            {"hint": 'name the app with letters or digits, e.g. "My app"'},
        )
    return trimmed


def _scope(value: str) -> str:
    if not rules.matches(rules.SCOPE_PATTERN, value):
        raise rule_error(
            "invalid_format",
            "must be scope tokens separated by single spaces (RFC 6749 §3.3)",
            {"hint": 'for example "msg.consumer"'},
        )
    if not rules.matches(rules.SCOPE_HAS_REQUIRED_PATTERN, value):
        raise rule_error(
            "missing_value",
            "must include {required}",
            {"required": rules.REQUIRED_SCOPE, "hint": f'add "{rules.REQUIRED_SCOPE}" to the scope'},
        )
    return value


# Validation context key: accept http://localhost-style webhook endpoints (development servers only).
ALLOW_LOCAL_HTTP: Final = "allow_local_http"


def _endpoint_url(value: str, info: ValidationInfo) -> str:
    """An https URL; in development (context ``allow_local_http``) also http to this machine."""
    local = isinstance(info.context, dict) and info.context.get(ALLOW_LOCAL_HTTP)
    if local and rules.matches(rules.LOCAL_HTTP_URL_PATTERN, value):
        return value
    return _https_url(value)


def _https_url(value: str) -> str:
    if rules.matches(rules.LOCAL_HTTP_URL_PATTERN, value):
        raise rule_error(
            "invalid_url",
            "uses plain http to this machine, which is accepted only in development",
            {"hint": "use https, or run `appinstall serve --dev` / `appinstall validate --dev`"},
        )
    if not rules.matches(rules.HTTPS_URL_PATTERN, value):
        raise rule_error(
            "invalid_url",
            "{problem}",
            {
                "problem": rules.describe_bad_https_url(value),
                "hint": 'for example "https://example.com/hooks"',
            },
        )
    return value


def _logo_uri(value: str) -> str:
    if not rules.matches(rules.LOGO_URI_PATTERN, value):
        raise rule_error(
            "invalid_url",
            "must be an absolute https:// URL, a path that starts with a single /, or empty for no logo",
            {"hint": 'for example "https://example.com/logo.png" or "/img/logo.png"'},
        )
    return value


def _header_name(value: str) -> str:
    if not rules.matches(rules.HEADER_NAME_PATTERN, value):
        raise rule_error(
            "invalid_header_name",
            "is not a valid HTTP header name (RFC 9110 token)",
            {"hint": "use letters, digits and !#$%&'*+-.^_`|~ only, for example X-Api-Key"},
        )
    if rules.matches(rules.RESERVED_HEADER_PATTERN, value):
        raise rule_error(
            "reserved_header",
            "{name} is set by the platform and cannot be overridden",
            {
                "name": value,
                "hint": "choose another name; the platform sets Host, Content-*, Transfer-Encoding and its own "
                "x-liveperson-* and webhook-* headers, and the hop-by-hop headers (Connection, Keep-Alive, Expect, "
                "Upgrade, TE, Trailer, Proxy-*) belong to the connection",
            },
        )
    return value


def _header_value(value: str) -> str:
    if not rules.matches(rules.HEADER_VALUE_PATTERN, value):
        raise rule_error(
            "control_character",
            "must not contain CR, LF, NUL or other control characters",
            {"hint": "header values are a single line of visible characters, spaces and tabs"},
        )
    return value


def _must_be_false(value: bool) -> bool:
    if value:
        raise rule_error(
            "not_allowed", "must be false", {"hint": "the platform does not support designing engagements"}
        )
    return value


def must_include_client_credentials(values: list[str]) -> list[str]:
    if rules.CLIENT_CREDENTIALS not in values:
        raise rule_error(
            "missing_value",
            "must include {required}",
            {"required": rules.CLIENT_CREDENTIALS, "hint": f'use ["{rules.CLIENT_CREDENTIALS}"]'},
        )
    return values


# --- Annotated types -----------------------------------------------------------------------------------------

ClientName = Annotated[
    StrictStr,
    AfterValidator(_client_name),
    Field(json_schema_extra={"pattern": rules.CLIENT_NAME_PATTERN}),
]
Description = Annotated[StrictStr, Field(max_length=rules.DESCRIPTION_MAX)]
Scope = Annotated[
    StrictStr,
    Field(
        max_length=rules.SCOPE_MAX,
        json_schema_extra={"allOf": [{"pattern": rules.SCOPE_PATTERN}, {"pattern": rules.SCOPE_HAS_REQUIRED_PATTERN}]},
    ),
    AfterValidator(_scope),
]
LogoUri = Annotated[
    StrictStr,
    Field(max_length=rules.LOGO_URI_MAX, json_schema_extra={"pattern": rules.LOGO_URI_PATTERN}),
    AfterValidator(_logo_uri),
]
Endpoint = Annotated[
    StrictStr,
    Field(max_length=rules.ENDPOINT_MAX, json_schema_extra={"pattern": rules.HTTPS_URL_PATTERN}),
    AfterValidator(_endpoint_url),
]
HeaderName = Annotated[
    StrictStr,
    Field(
        max_length=rules.HEADER_NAME_MAX,
        json_schema_extra={
            "pattern": rules.HEADER_NAME_PATTERN,
            "not": {"pattern": rules.RESERVED_HEADER_PATTERN},
        },
    ),
    AfterValidator(_header_name),
]
HeaderValue = Annotated[
    StrictStr,
    Field(max_length=rules.HEADER_VALUE_MAX, json_schema_extra={"pattern": rules.HEADER_VALUE_PATTERN}),
    AfterValidator(_header_value),
]
FalseOnly = Annotated[StrictBool, AfterValidator(_must_be_false), Field(json_schema_extra={"const": False})]

GrantType = Literal["client_credentials"]


def default_grant_types() -> list[GrantType]:
    return ["client_credentials"]
