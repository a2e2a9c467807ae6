"""The App Install manifest as typed, strict pydantic models.

Strictness is the point: ``"3"`` is not 3, ``true`` is not 1, ``2.5`` is not 2, ``null`` is not "absent", and a
key the platform does not know is an error rather than something silently dropped. Rules that need more than a
type (lengths after trimming, reserved headers, uniqueness) raise ``PydanticCustomError`` with our own stable
error code, so ``errors.py`` can report them without guessing.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from appinstall.manifest import rules
from appinstall.manifest.errors import RULE_PREFIX


def rule_error(code: str, message: str, context: dict[str, Any]) -> PydanticCustomError:
    """An error of one of our rules. The ``rule:`` prefix keeps our codes apart from pydantic's own types;
    ``context`` may carry a ``hint`` and an ``at`` (a location below the validated value)."""
    return PydanticCustomError(f"{RULE_PREFIX}{code}", message, context)


class StrictModel(BaseModel):
    """A model that coerces nothing and rejects keys it does not know."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, validate_by_alias=True)


def _reject_null(value: Any) -> Any:
    if value is None:
        raise rule_error("type", "must not be null", {"hint": "leave the key out instead of null"})
    return value


def _unique(values: list[Any]) -> list[Any]:
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


def _must_include_auth(values: list[str]) -> list[str]:
    if "auth" not in values:
        raise rule_error("missing_value", "must include {required}", {"required": "auth", "hint": 'add "auth"'})
    return values


def _must_include_client_credentials(values: list[str]) -> list[str]:
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

EntryPoint = Literal["section", "url"]
VisitorBehavior = Literal[
    "visited_location",
    "time_on_location",
    "flow",
    "engaged_in_session",
    "about_to_abandon",
    "cart_value",
    "cart_items",
    "visitor_error",
    "viewed_products",
    "service_activity",
]
TargetAudience = Literal[
    "external_referral",
    "search_keywords",
    "ip",
    "platform",
    "geo_location",
    "returning_visitors",
    "marketing_source",
    "customer_type",
    "age",
    "balance",
    "customer_id",
    "gender",
    "store_zip_code",
    "store_number",
    "company_size",
    "registration_date",
]
Goal = Literal["url", "purchase_total", "num_of_pages", "lead", "service_activity"]
ConsumerIdentity = Literal["auth", "unauth"]
GrantType = Literal["client_credentials"]

_UNIQUE = Field(json_schema_extra={"uniqueItems": True})


def _default_grant_types() -> list[GrantType]:
    return ["client_credentials"]


# --- Models --------------------------------------------------------------------------------------------------


class Header(StrictModel):
    """One custom HTTP header added to every notification request of a webhook."""

    header_name: HeaderName = Field(description="An HTTP header name; not one the platform sets itself.")
    header_value: HeaderValue = Field(description="Its value: one line, no control characters.")


class Webhook(StrictModel):
    """Where, and how insistently, the platform delivers one type of notification."""

    endpoint: Endpoint = Field(description="The https:// URL that receives the notifications.")
    max_retries: StrictInt | None = Field(
        None,
        ge=0,
        le=rules.MAX_RETRIES_MAX,
        description="Retries after a failed first attempt, 0 to 5 (0 when absent). With `retry.retention_time` "
        "set, a webhook without it is retried for the retention time, and `0` opts it out.",
    )
    headers: list[Header] = Field(
        default_factory=list,
        max_length=rules.HEADERS_MAX,
        json_schema_extra={"default": [], "uniqueItems": True},
        description="Extra HTTP headers for each request, at most 20.",
    )

    @field_validator("max_retries", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _reject_null(value)

    @field_validator("headers", mode="after")
    @classmethod
    def _header_names_unique(cls, headers: list[Header]) -> list[Header]:
        if len({header.header_name.lower() for header in headers}) == len(headers):
            return headers
        seen: set[str] = set()
        for index, header in enumerate(headers):
            key = header.header_name.lower()
            if key in seen:
                raise rule_error(
                    "duplicate",
                    "header {name} is listed more than once (names ignore case)",
                    {
                        "name": header.header_name,
                        "at": (index, "header_name"),
                        "hint": "keep one header per name; to send several values, join them with commas",
                    },
                )
            seen.add(key)
        return headers


class RetryPolicy(StrictModel):
    """The platform's newer retry policy: keep retrying with backoff for this long."""

    retention_time: StrictInt = Field(
        ge=rules.RETENTION_TIME_MIN,
        le=rules.RETENTION_TIME_MAX,
        description="Seconds during which failed deliveries keep being retried, 2 to 259200 (3 days).",
    )


_NULL_REJECTING_EVENTS: Final = (
    "content_event",
    "rich_content_event",
    "accept_status_event",
    "chat_state_event",
)


class Webhooks(StrictModel):
    """Subscriptions by notification type, plus an optional retry policy for all of them."""

    content_event: Webhook | None = Field(None, alias=rules.CONTENT_EVENT, description="Text and file messages.")
    rich_content_event: Webhook | None = Field(
        None, alias=rules.RICH_CONTENT_EVENT, description="Structured (rich) content messages."
    )
    accept_status_event: Webhook | None = Field(
        None, alias=rules.ACCEPT_STATUS_EVENT, description="Delivery and read receipts."
    )
    chat_state_event: Webhook | None = Field(
        None, alias=rules.CHAT_STATE_EVENT, description="Typing and presence states."
    )
    ex_conversation_change: Webhook | None = Field(
        None,
        alias=rules.EX_CONVERSATION_CHANGE,
        description="Conversation opened, assigned or closed. Also accepted under the seed table's spelling "
        f"`{rules.LEGACY_EX_CONVERSATION_CHANGE}`, with a warning.",
    )
    retry: RetryPolicy | None = Field(None, description="Retry by retention time instead of by count.")

    @model_validator(mode="before")
    @classmethod
    def _normalise_legacy_spelling(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, dict) or rules.LEGACY_EX_CONVERSATION_CHANGE not in data:
            return data
        if rules.EX_CONVERSATION_CHANGE in data:
            raise rule_error(
                "duplicate",
                "the conversation-change webhook is given under both {legacy} and {current}",
                {
                    "legacy": rules.LEGACY_EX_CONVERSATION_CHANGE,
                    "current": rules.EX_CONVERSATION_CHANGE,
                    "at": (rules.LEGACY_EX_CONVERSATION_CHANGE,),
                    "hint": f"keep only {rules.EX_CONVERSATION_CHANGE}",
                },
            )
        if isinstance(info.context, dict):
            info.context.setdefault("warnings", []).append(rules.LEGACY_EX_CONVERSATION_CHANGE)
        renamed = dict(data)
        renamed[rules.EX_CONVERSATION_CHANGE] = renamed.pop(rules.LEGACY_EX_CONVERSATION_CHANGE)
        return renamed

    @field_validator(*_NULL_REJECTING_EVENTS, "ex_conversation_change", "retry", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _reject_null(value)

    def subscriptions(self) -> dict[str, Webhook]:
        """The subscribed event types and their webhooks, keyed by the platform's names."""
        return {
            event: webhook
            for event, webhook in zip(
                rules.EVENT_TYPES,
                (
                    self.content_event,
                    self.rich_content_event,
                    self.accept_status_event,
                    self.chat_state_event,
                    self.ex_conversation_change,
                ),
                strict=True,
            )
            if webhook is not None
        }


class Engagement(StrictModel):
    """How the app engages consumers through the platform's engagements API. Every field is required."""

    design_engagement: FalseOnly = Field(description="Must be `false`.")
    design_window: FalseOnly = Field(description="Must be `false`.")
    entry_point: Annotated[list[EntryPoint], _UNIQUE, AfterValidator(_unique)] = Field(
        description="Where the invitation to engage is shown."
    )
    visitor_behavior: Annotated[list[VisitorBehavior], _UNIQUE, AfterValidator(_unique)] = Field(
        description="Browsing behaviour of interest."
    )
    target_audience: Annotated[list[TargetAudience], _UNIQUE, AfterValidator(_unique)] = Field(
        description="Visitors to target."
    )
    goal: Annotated[list[Goal], _UNIQUE, AfterValidator(_unique)] = Field(
        description="What the engagement should achieve."
    )
    consumer_identity: Annotated[
        list[ConsumerIdentity], _UNIQUE, AfterValidator(_unique), AfterValidator(_must_include_auth)
    ] = Field(
        description="Whether consumers must be authenticated; must include `auth`.",
        json_schema_extra={"contains": {"const": "auth"}},
    )
    language_selection: StrictBool = Field(description="Whether the consumer may choose a language.")


class Capabilities(StrictModel):
    """What the app implements; other apps discover it by these."""

    webhooks: Webhooks | None = Field(None, description="Notification subscriptions.")
    engagement: Engagement | None = Field(None, description="Engagement capabilities.")

    @field_validator("webhooks", "engagement", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _reject_null(value)


class Manifest(StrictModel):
    """An App Install manifest: what a connector app is and what it wants from the platform."""

    client_name: ClientName = Field(
        description="The installation's name, usually the app's. Unique within an account, compared after NFKC "
        "case folding without invisible characters (Straße is STRASSE); trimmed; 1 to 100 characters, not all "
        "invisible."
    )
    description: Description | None = Field(None, description="What the app does, at most 256 characters.")
    grant_types: Annotated[
        list[GrantType], _UNIQUE, AfterValidator(_unique), AfterValidator(_must_include_client_credentials)
    ] = Field(
        default_factory=_default_grant_types,
        json_schema_extra={"default": [rules.CLIENT_CREDENTIALS], "contains": {"const": rules.CLIENT_CREDENTIALS}},
        description="OAuth grants the app may use; `client_credentials` is the only one and is required.",
    )
    scope: Scope = Field(
        rules.REQUIRED_SCOPE,
        description="Space-separated OAuth scopes, at most 128 characters; must include `msg.consumer`.",
    )
    logo_uri: LogoUri | None = Field(
        None,
        description="An https:// URL or an absolute path to the app's logo, at most 128 characters; "
        '`""` means no logo.',
    )
    capabilities: Capabilities | None = Field(None, description="Webhooks and engagement capabilities.")
    schema_uri: StrictStr | None = Field(
        None,
        alias="$schema",
        title="JSON Schema",
        exclude=True,
        description="The JSON Schema an editor checks the file against; accepted and dropped from the manifest.",
    )

    @field_validator("description", "logo_uri", "capabilities", "schema_uri", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _reject_null(value)

    def to_document(self) -> dict[str, Any]:
        """The normalised manifest as JSON-ready data, with the platform's key names."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
