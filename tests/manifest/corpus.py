"""A shared corpus of manifests, each with the verdict the manifest rules demand.

Nearly every case is the seed example with one small change, so that it fails (or passes) for exactly one reason,
and every rule is exercised on both sides of its bound. The corpus is written from the rules, not from the
implementation: key names and limits are spelled out here as literals so that a change in the model that moves
a bound shows up as a failing case instead of silently moving the test along with it.

The validator and the published JSON Schema are both checked against this corpus (``test_schema_agreement``);
other tests may use it as a supply of realistic valid and invalid documents.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib import resources
from typing import Any, NamedTuple

JsonPath = tuple[str | int, ...]
Change = Callable[[Any], None]

CONTENT_EVENT = "ms.MessagingEventNotification.ContentEvent"
RICH_CONTENT_EVENT = "ms.MessagingEventNotification.RichContentEvent"
ACCEPT_STATUS_EVENT = "ms.MessagingEventNotification.AcceptStatusEvent"
CHAT_STATE_EVENT = "ms.MessagingEventNotification.ChatStateEvent"
EX_CONVERSATION_CHANGE = "cqm.ExConversationChangeNotification"
LEGACY_EX_CONVERSATION_CHANGE = "ms.MessagingEventNotification.ExConversationChangeNotification"
EVENT_KEYS = (CONTENT_EVENT, RICH_CONTENT_EVENT, ACCEPT_STATUS_EVENT, CHAT_STATE_EVENT, EX_CONVERSATION_CHANGE)

CAPABILITIES: JsonPath = ("capabilities",)
WEBHOOKS: JsonPath = (*CAPABILITIES, "webhooks")
CONTENT: JsonPath = (*WEBHOOKS, CONTENT_EVENT)
ENDPOINT: JsonPath = (*CONTENT, "endpoint")
MAX_RETRIES: JsonPath = (*CONTENT, "max_retries")
HEADERS: JsonPath = (*CONTENT, "headers")
FIRST_HEADER: JsonPath = (*HEADERS, 0)
HEADER_NAME: JsonPath = (*FIRST_HEADER, "header_name")
HEADER_VALUE: JsonPath = (*FIRST_HEADER, "header_value")
RETRY: JsonPath = (*WEBHOOKS, "retry")
ENGAGEMENT: JsonPath = (*CAPABILITIES, "engagement")

ENGAGEMENT_FIELDS = (
    "design_engagement",
    "design_window",
    "entry_point",
    "visitor_behavior",
    "target_audience",
    "goal",
    "consumer_identity",
    "language_selection",
)


# Read from the installed package rather than from ``tests.conftest``, so that the corpus can be imported by scripts
# without the fixtures' dependencies (web app, database drivers).
SEED: dict[str, Any] = json.loads(
    resources.files("appinstall.manifest").joinpath("examples", "seed.json").read_text(encoding="utf-8")
)


class Case(NamedTuple):
    """One corpus entry: a readable name (used as the test id), the document, and whether it must be accepted."""

    name: str
    document: Any
    expected_valid: bool


def seed() -> dict[str, Any]:
    """A fresh copy of the seed example, safe to mutate."""
    return copy.deepcopy(SEED)


def mutated(*changes: Change) -> dict[str, Any]:
    """The seed with ``changes`` applied in order; the seed itself is never touched."""
    document = seed()
    for change in changes:
        change(document)
    return document


def _parent(document: Any, path: JsonPath) -> Any:
    node = document
    for part in path[:-1]:
        node = node[part]
    return node


def setting(path: JsonPath, value: Any) -> Change:
    """A change that puts ``value`` at ``path`` (adding the key, or replacing what was there)."""

    def change(document: Any) -> None:
        _parent(document, path)[path[-1]] = copy.deepcopy(value)

    return change


def deleting(path: JsonPath) -> Change:
    """A change that removes the key (or list item) at ``path``."""

    def change(document: Any) -> None:
        del _parent(document, path)[path[-1]]

    return change


def header(name: str, value: str = "value") -> dict[str, str]:
    """One entry of a webhook's ``headers`` list."""
    return {"header_name": name, "header_value": value}


def https_url_of_length(length: int) -> str:
    """A valid https URL of exactly ``length`` characters, padded in the path."""
    prefix = "https://example.com/"
    return prefix + "a" * (length - len(prefix))


def logo_path_of_length(length: int) -> str:
    """A valid logo path (on the platform's host) of exactly ``length`` characters."""
    return "/" + "a" * (length - 1)


# --- The cases, grouped by rule -------------------------------------------------------------------------------

_BASELINE = [
    Case("seed_example", seed(), True),
    Case("minimal_manifest_with_only_client_name", {"client_name": "App"}, True),
    Case("minimal_manifest_with_empty_capabilities", {"client_name": "App", "capabilities": {}}, True),
]

_TOP_LEVEL_SHAPE = [
    Case("top_level_empty_object_lacks_client_name", {}, False),
    Case("top_level_array", [seed()], False),
    Case("top_level_empty_array", [], False),
    Case("top_level_string", "App name", False),
    Case("top_level_number", 42, False),
    Case("top_level_boolean", True, False),
    Case("top_level_null", None, False),
]

_CLIENT_NAME = [
    Case("client_name_missing", mutated(deleting(("client_name",))), False),
    Case("client_name_blank", mutated(setting(("client_name",), "")), False),
    Case("client_name_only_spaces", mutated(setting(("client_name",), "   ")), False),
    Case("client_name_only_mixed_whitespace", mutated(setting(("client_name",), " \t\r\n ")), False),
    Case("client_name_one_character", mutated(setting(("client_name",), "A")), True),
    Case("client_name_100_characters", mutated(setting(("client_name",), "a" * 100)), True),
    Case("client_name_101_characters", mutated(setting(("client_name",), "a" * 101)), False),
    Case(
        "client_name_100_characters_with_inner_spaces", mutated(setting(("client_name",), "a" + " " * 98 + "a")), True
    ),
    Case(
        "client_name_surrounding_spaces_trim_to_100",
        mutated(setting(("client_name",), "   " + "a" * 100 + "   ")),
        True,
    ),
    Case(
        "client_name_surrounding_spaces_trim_to_101",
        mutated(setting(("client_name",), "   " + "a" * 101 + "   ")),
        False,
    ),
    Case("client_name_surrounding_tabs_and_newlines_trim_away", mutated(setting(("client_name",), "\tApp\n")), True),
    Case("client_name_only_zero_width_space", mutated(setting(("client_name",), "\u200b")), False),
    Case("client_name_only_joiners_and_bom", mutated(setting(("client_name",), "\u200c\u200d\ufeff")), False),
    Case("client_name_only_other_spaces", mutated(setting(("client_name",), "\u00a0\u2003\u3000")), False),
    Case("client_name_only_hangul_fillers", mutated(setting(("client_name",), "\u3164\uffa0")), False),
    Case("client_name_invisible_around_a_letter", mutated(setting(("client_name",), "\u200bA\u200b")), True),
    Case("client_name_one_cjk_character", mutated(setting(("client_name",), "\u5e94")), True),
    Case("client_name_nul_inside", mutated(setting(("client_name",), "App\x00name")), False),
    Case("client_name_bell_inside", mutated(setting(("client_name",), "App\x07name")), False),
    Case("client_name_tab_inside", mutated(setting(("client_name",), "App\tname")), False),
    Case("client_name_line_feed_inside", mutated(setting(("client_name",), "App\nname")), False),
    Case("client_name_delete_inside", mutated(setting(("client_name",), "App\x7fname")), False),
    Case("client_name_nul_at_end", mutated(setting(("client_name",), "App\x00")), False),
    Case("client_name_non_ascii", mutated(setting(("client_name",), "Приложение ✓")), True),
    Case("client_name_number", mutated(setting(("client_name",), 42)), False),
    Case("client_name_null", mutated(setting(("client_name",), None)), False),
]

_DESCRIPTION = [
    Case("description_missing", mutated(deleting(("description",))), True),
    Case("description_empty", mutated(setting(("description",), "")), True),
    Case("description_256_characters", mutated(setting(("description",), "d" * 256)), True),
    Case("description_257_characters", mutated(setting(("description",), "d" * 257)), False),
    Case("description_number", mutated(setting(("description",), 1)), False),
    Case("description_null", mutated(setting(("description",), None)), False),
]

_GRANT_TYPES = [
    Case("grant_types_missing_defaults_to_client_credentials", mutated(deleting(("grant_types",))), True),
    Case("grant_types_empty_list", mutated(setting(("grant_types",), [])), False),
    Case("grant_types_other_value_only", mutated(setting(("grant_types",), ["authorization_code"])), False),
    Case(
        "grant_types_client_credentials_and_other_value",
        mutated(setting(("grant_types",), ["client_credentials", "authorization_code"])),
        False,
    ),
    Case(
        "grant_types_client_credentials_twice",
        mutated(setting(("grant_types",), ["client_credentials", "client_credentials"])),
        False,
    ),
    Case("grant_types_as_string", mutated(setting(("grant_types",), "client_credentials")), False),
    Case("grant_types_wrong_case", mutated(setting(("grant_types",), ["Client_Credentials"])), False),
    Case("grant_types_null", mutated(setting(("grant_types",), None)), False),
]

_SCOPE = [
    Case("scope_missing_defaults_to_msg_consumer", mutated(deleting(("scope",))), True),
    Case("scope_128_characters", mutated(setting(("scope",), "msg.consumer " + "a" * 115)), True),
    Case("scope_129_characters", mutated(setting(("scope",), "msg.consumer " + "a" * 116)), False),
    Case("scope_msg_consumer_first_of_two", mutated(setting(("scope",), "msg.consumer other")), True),
    Case("scope_msg_consumer_last_of_two", mutated(setting(("scope",), "other msg.consumer")), True),
    Case("scope_msg_consumer_in_the_middle", mutated(setting(("scope",), "a msg.consumer b")), True),
    Case("scope_without_msg_consumer", mutated(setting(("scope",), "other")), False),
    Case("scope_msg_consumer_as_prefix_of_token", mutated(setting(("scope",), "msg.consumers")), False),
    Case("scope_msg_consumer_as_suffix_of_token", mutated(setting(("scope",), "xmsg.consumer")), False),
    Case("scope_dot_is_literal", mutated(setting(("scope",), "msgXconsumer")), False),
    Case("scope_empty", mutated(setting(("scope",), "")), False),
    Case("scope_double_space", mutated(setting(("scope",), "msg.consumer  other")), False),
    Case("scope_tab_separator", mutated(setting(("scope",), "msg.consumer\tother")), False),
    Case("scope_leading_space", mutated(setting(("scope",), " msg.consumer")), False),
    Case("scope_trailing_space", mutated(setting(("scope",), "msg.consumer ")), False),
    Case("scope_trailing_line_feed", mutated(setting(("scope",), "msg.consumer\n")), False),
    Case("scope_double_quote_in_token", mutated(setting(("scope",), 'msg.consumer "other"')), False),
    Case("scope_backslash_in_token", mutated(setting(("scope",), "msg.consumer a\\b")), False),
    Case("scope_non_ascii_token", mutated(setting(("scope",), "msg.consumer café")), False),
    Case("scope_as_list", mutated(setting(("scope",), ["msg.consumer"])), False),
    Case("scope_null", mutated(setting(("scope",), None)), False),
]

_LOGO_URI = [
    Case("logo_uri_missing", mutated(deleting(("logo_uri",))), True),
    Case("logo_uri_https_url", mutated(setting(("logo_uri",), "https://example.com/logo.png")), True),
    Case("logo_uri_absolute_path", mutated(setting(("logo_uri",), "/img/logo.png")), True),
    Case("logo_uri_root_path", mutated(setting(("logo_uri",), "/")), True),
    Case("logo_uri_protocol_relative", mutated(setting(("logo_uri",), "//host/x")), False),
    Case("logo_uri_http_url", mutated(setting(("logo_uri",), "http://example.com/logo.png")), False),
    Case("logo_uri_relative_path", mutated(setting(("logo_uri",), "img/logo.png")), False),
    Case("logo_uri_path_with_space", mutated(setting(("logo_uri",), "/img/my logo.png")), False),
    Case("logo_uri_path_with_trailing_line_feed", mutated(setting(("logo_uri",), "/img/logo.png\n")), False),
    # The platform's own installer sends "" for "no logo".
    Case("logo_uri_empty_means_no_logo", mutated(setting(("logo_uri",), "")), True),
    Case("logo_uri_only_a_space", mutated(setting(("logo_uri",), " ")), False),
    Case("logo_uri_path_128_characters", mutated(setting(("logo_uri",), logo_path_of_length(128))), True),
    Case("logo_uri_path_129_characters", mutated(setting(("logo_uri",), logo_path_of_length(129))), False),
    Case("logo_uri_url_128_characters", mutated(setting(("logo_uri",), https_url_of_length(128))), True),
    Case("logo_uri_url_129_characters", mutated(setting(("logo_uri",), https_url_of_length(129))), False),
    Case("logo_uri_null", mutated(setting(("logo_uri",), None)), False),
]

_WEBHOOK_KEYS = [
    *[
        Case(
            f"webhooks_only_{key}",
            mutated(setting(WEBHOOKS, {key: {"endpoint": "https://example.com/hooks"}})),
            True,
        )
        for key in EVENT_KEYS
    ],
    Case("webhooks_empty", mutated(setting(WEBHOOKS, {})), True),
    Case(
        "webhooks_unknown_event_key",
        mutated(setting((*WEBHOOKS, "ms.MessagingEventNotification.Unknown"), {"endpoint": "https://example.com/"})),
        False,
    ),
    Case(
        "webhooks_event_key_in_wrong_case",
        mutated(
            setting((*WEBHOOKS, "ms.messagingeventnotification.contentevent"), {"endpoint": "https://example.com/"})
        ),
        False,
    ),
    Case(
        "webhooks_python_field_name_instead_of_event_key",
        mutated(setting(WEBHOOKS, {"content_event": {"endpoint": "https://example.com/"}})),
        False,
    ),
    # The seed table's spelling is accepted (with a deprecation warning) when it stands alone...
    Case(
        "webhooks_legacy_conversation_change_key_alone",
        mutated(
            deleting((*WEBHOOKS, EX_CONVERSATION_CHANGE)),
            setting((*WEBHOOKS, LEGACY_EX_CONVERSATION_CHANGE), {"endpoint": "https://example.com/"}),
        ),
        True,
    ),
    # ...but not next to the current spelling, which would say two things about one subscription.
    Case(
        "webhooks_legacy_and_current_conversation_change_keys_together",
        mutated(setting((*WEBHOOKS, LEGACY_EX_CONVERSATION_CHANGE), {"endpoint": "https://example.com/"})),
        False,
    ),
    Case(
        "webhooks_legacy_conversation_change_key_with_invalid_webhook",
        mutated(
            deleting((*WEBHOOKS, EX_CONVERSATION_CHANGE)),
            setting((*WEBHOOKS, LEGACY_EX_CONVERSATION_CHANGE), {"endpoint": "http://example.com/"}),
        ),
        False,
    ),
    Case(
        "webhooks_legacy_conversation_change_key_null",
        mutated(
            deleting((*WEBHOOKS, EX_CONVERSATION_CHANGE)),
            setting((*WEBHOOKS, LEGACY_EX_CONVERSATION_CHANGE), None),
        ),
        False,
    ),
    Case("webhook_without_endpoint", mutated(deleting(ENDPOINT)), False),
    Case("webhook_as_string", mutated(setting(CONTENT, "https://example.com/")), False),
    Case("webhooks_as_list", mutated(setting(WEBHOOKS, [])), False),
]

_RETRY = [
    Case("retry_missing", seed(), True),
    Case("retry_alone_in_webhooks", mutated(setting(WEBHOOKS, {"retry": {"retention_time": 60}})), True),
    Case("retry_retention_time_1", mutated(setting(RETRY, {"retention_time": 1})), False),
    Case("retry_retention_time_2", mutated(setting(RETRY, {"retention_time": 2})), True),
    Case("retry_retention_time_259200", mutated(setting(RETRY, {"retention_time": 259200})), True),
    Case("retry_retention_time_259201", mutated(setting(RETRY, {"retention_time": 259201})), False),
    Case("retry_retention_time_0", mutated(setting(RETRY, {"retention_time": 0})), False),
    Case("retry_retention_time_negative", mutated(setting(RETRY, {"retention_time": -60})), False),
    Case("retry_retention_time_missing", mutated(setting(RETRY, {})), False),
    Case("retry_retention_time_as_string", mutated(setting(RETRY, {"retention_time": "60"})), False),
    Case("retry_retention_time_as_boolean", mutated(setting(RETRY, {"retention_time": True})), False),
    Case("retry_retention_time_fractional", mutated(setting(RETRY, {"retention_time": 60.5})), False),
    Case("retry_retention_time_null", mutated(setting(RETRY, {"retention_time": None})), False),
    Case("retry_as_number", mutated(setting(RETRY, 60)), False),
]

_ENDPOINT = [
    Case("endpoint_https_url", mutated(setting(ENDPOINT, "https://example.com/hooks")), True),
    Case("endpoint_https_url_without_path", mutated(setting(ENDPOINT, "https://example.com")), True),
    Case("endpoint_https_url_with_query", mutated(setting(ENDPOINT, "https://example.com?x=1")), True),
    Case("endpoint_https_url_with_trailing_dot_host", mutated(setting(ENDPOINT, "https://example.com./x")), True),
    Case("endpoint_http_url", mutated(setting(ENDPOINT, "http://example.com/hooks")), False),
    Case("endpoint_scheme_in_upper_case", mutated(setting(ENDPOINT, "HTTPS://example.com/hooks")), False),
    Case("endpoint_without_scheme", mutated(setting(ENDPOINT, "example.com/hooks")), False),
    Case("endpoint_without_host", mutated(setting(ENDPOINT, "https://")), False),
    Case("endpoint_without_host_but_path", mutated(setting(ENDPOINT, "https:///hooks")), False),
    Case("endpoint_with_user_and_password", mutated(setting(ENDPOINT, "https://u:p@h/")), False),
    Case("endpoint_with_user", mutated(setting(ENDPOINT, "https://user@example.com/")), False),
    Case("endpoint_port_65535", mutated(setting(ENDPOINT, "https://example.com:65535/hooks")), True),
    Case("endpoint_port_65536", mutated(setting(ENDPOINT, "https://example.com:65536/hooks")), False),
    Case("endpoint_port_443", mutated(setting(ENDPOINT, "https://example.com:443/hooks")), True),
    Case("endpoint_port_empty", mutated(setting(ENDPOINT, "https://example.com:/hooks")), False),
    Case("endpoint_port_not_numeric", mutated(setting(ENDPOINT, "https://example.com:https/hooks")), False),
    Case("endpoint_ipv6_loopback", mutated(setting(ENDPOINT, "https://[::1]/hooks")), True),
    Case("endpoint_ipv6_with_port", mutated(setting(ENDPOINT, "https://[::1]:8443/hooks")), True),
    Case("endpoint_ipv6_without_brackets", mutated(setting(ENDPOINT, "https://::1/hooks")), False),
    *[
        Case(f"endpoint_host_{name}", mutated(setting(ENDPOINT, f"https://{host}/hooks")), False)
        for name, host in [
            ("ipv6_letter", "[C]"),
            ("ipv6_only_colons", "[::::]"),
            ("ipv4_in_brackets", "[1.2.3.4]"),
            ("ipv4_as_one_number", "2130706433"),
            ("ipv4_short", "127.1"),
            ("ipv4_hex", "0x7f.0.0.1"),
            ("ipv4_octal", "0177.0.0.1"),
            ("ipv4_leading_zero", "127.0.0.01"),
            ("ipv4_octet_over_255", "1.2.3.256"),
            ("ipv4_five_parts", "1.2.3.4.5"),
            ("numeric_last_label", "example.123"),
            ("ipv6_zone", "[fe80::1%25eth0]"),
        ]
    ],
    Case("endpoint_host_canonical_ipv4", mutated(setting(ENDPOINT, "https://203.0.113.9:8443/hooks")), True),
    Case("endpoint_host_numeric_first_label", mutated(setting(ENDPOINT, "https://123.example.com/hooks")), True),
    Case("endpoint_host_ipv4_mapped_ipv6", mutated(setting(ENDPOINT, "https://[::ffff:192.0.2.1]/hooks")), True),
    Case("endpoint_host_label_starting_with_hyphen", mutated(setting(ENDPOINT, "https://-bad.example/")), False),
    Case("endpoint_host_with_underscore", mutated(setting(ENDPOINT, "https://bad_host.example/")), False),
    Case("endpoint_2048_characters", mutated(setting(ENDPOINT, https_url_of_length(2048))), True),
    Case("endpoint_2049_characters", mutated(setting(ENDPOINT, https_url_of_length(2049))), False),
    Case("endpoint_space_in_path", mutated(setting(ENDPOINT, "https://example.com/my hooks")), False),
    Case("endpoint_leading_space", mutated(setting(ENDPOINT, " https://example.com/hooks")), False),
    Case("endpoint_trailing_space", mutated(setting(ENDPOINT, "https://example.com/hooks ")), False),
    Case("endpoint_trailing_line_feed", mutated(setting(ENDPOINT, "https://example.com/hooks\n")), False),
    Case("endpoint_tab_in_path", mutated(setting(ENDPOINT, "https://example.com/a\tb")), False),
    Case("endpoint_empty", mutated(setting(ENDPOINT, "")), False),
    Case("endpoint_number", mutated(setting(ENDPOINT, 443)), False),
    Case("endpoint_null", mutated(setting(ENDPOINT, None)), False),
]

_MAX_RETRIES = [
    Case("max_retries_missing_defaults_to_0", mutated(deleting(MAX_RETRIES)), True),
    Case("max_retries_minus_1", mutated(setting(MAX_RETRIES, -1)), False),
    Case("max_retries_0", mutated(setting(MAX_RETRIES, 0)), True),
    Case("max_retries_5", mutated(setting(MAX_RETRIES, 5)), True),
    Case("max_retries_6", mutated(setting(MAX_RETRIES, 6)), False),
    Case("max_retries_huge", mutated(setting(MAX_RETRIES, 10**30)), False),
    Case("max_retries_as_string", mutated(setting(MAX_RETRIES, "3")), False),
    Case("max_retries_true", mutated(setting(MAX_RETRIES, True)), False),
    Case("max_retries_false", mutated(setting(MAX_RETRIES, False)), False),
    Case("max_retries_fractional", mutated(setting(MAX_RETRIES, 2.5)), False),
    Case("max_retries_null", mutated(setting(MAX_RETRIES, None)), False),
]

_RESERVED_HEADER_NAMES = [
    "Host",
    "host",
    "HOST",
    "content-type",
    "Content-Type",
    "CONTENT-TYPE",
    "Content-Length",
    "Transfer-Encoding",
    "Connection",
    "X-LivePerson-Anything",
    "x-liveperson-anything",
    "X-LIVEPERSON-",
    "Webhook-Id",
    "webhook-id",
    "WEBHOOK-ID",
    "wEbHoOk-iD",
    "Expect",
    "Keep-Alive",
    "Upgrade",
    "TE",
    "Trailer",
    "Proxy-Authorization",
    "Proxy-Connection",
    "Content-Encoding",
    "HTTP2-Settings",
]

_NEAR_RESERVED_HEADER_NAMES = [
    "Hosts",
    "X-Host",
    "Content-Types",
    "X-Content-Type",
    "X-LivePersonal",
    "Webhook",
    "Expected",
    "Tea",
    "Trailers",
    "Proxy",
    "X-Upgrade",
]

_HEADERS = [
    Case("headers_missing", mutated(deleting(HEADERS)), True),
    Case("headers_empty", mutated(setting(HEADERS, [])), True),
    Case("headers_20_items", mutated(setting(HEADERS, [header(f"X-Header-{i}") for i in range(20)])), True),
    Case("headers_21_items", mutated(setting(HEADERS, [header(f"X-Header-{i}") for i in range(21)])), False),
    Case("header_name_all_token_characters", mutated(setting(HEADER_NAME, "!#$%&'*+-.^_`|~09AZaz")), True),
    Case("header_name_with_space", mutated(setting(HEADER_NAME, "X Api Key")), False),
    Case("header_name_with_colon", mutated(setting(HEADER_NAME, "X-Api-Key:")), False),
    Case("header_name_with_trailing_line_feed", mutated(setting(HEADER_NAME, "X-Api-Key\n")), False),
    Case("header_name_non_ascii", mutated(setting(HEADER_NAME, "X-Ключ")), False),
    Case("header_name_empty", mutated(setting(HEADER_NAME, "")), False),
    Case("header_name_256_characters", mutated(setting(HEADER_NAME, "X" * 256)), True),
    Case("header_name_257_characters", mutated(setting(HEADER_NAME, "X" * 257)), False),
    *[
        Case(f"header_name_reserved_{name}", mutated(setting(HEADER_NAME, name)), False)
        for name in _RESERVED_HEADER_NAMES
    ],
    *[
        Case(f"header_name_not_reserved_{name}", mutated(setting(HEADER_NAME, name)), True)
        for name in _NEAR_RESERVED_HEADER_NAMES
    ],
    Case("header_value_empty", mutated(setting(HEADER_VALUE, "")), True),
    Case("header_value_with_tab", mutated(setting(HEADER_VALUE, "a\tb")), True),
    Case("header_value_with_spaces", mutated(setting(HEADER_VALUE, " Bearer abc ")), True),
    Case("header_value_non_ascii", mutated(setting(HEADER_VALUE, "café")), True),
    Case("header_value_with_carriage_return", mutated(setting(HEADER_VALUE, "a\rb")), False),
    Case("header_value_with_line_feed", mutated(setting(HEADER_VALUE, "a\nX-Injected: 1")), False),
    Case("header_value_with_nul", mutated(setting(HEADER_VALUE, "a\x00b")), False),
    Case("header_value_with_trailing_line_feed", mutated(setting(HEADER_VALUE, "value\n")), False),
    Case("header_value_with_trailing_crlf", mutated(setting(HEADER_VALUE, "value\r\n")), False),
    Case("header_value_with_escape", mutated(setting(HEADER_VALUE, "a\x1bb")), False),
    Case("header_value_with_delete", mutated(setting(HEADER_VALUE, "a\x7fb")), False),
    Case("header_value_4096_characters", mutated(setting(HEADER_VALUE, "v" * 4096)), True),
    Case("header_value_4097_characters", mutated(setting(HEADER_VALUE, "v" * 4097)), False),
    Case("header_value_number", mutated(setting(HEADER_VALUE, 1)), False),
    Case("header_without_value", mutated(deleting(HEADER_VALUE)), False),
    Case("header_without_name", mutated(deleting(HEADER_NAME)), False),
    Case("header_null", mutated(setting(FIRST_HEADER, None)), False),
    Case("header_as_string", mutated(setting(FIRST_HEADER, "X-Api-Key: 1")), False),
    Case("headers_as_object", mutated(setting(HEADERS, {"X-Api-Key": "1"})), False),
    Case(
        "headers_with_distinct_names",
        mutated(setting(HEADERS, [header("X-One"), header("X-Two")])),
        True,
    ),
    # Identical header objects: JSON Schema can say this (``uniqueItems`` on ``headers``), so both must refuse it.
    # Names that differ only in case, or equal names with different values, are the documented divergence
    # instead (see test_schema_agreement).
    # DISAGREEMENT (reported to the lead): the validator refuses this document, the schema accepts it, because
    # the published ``headers`` array carries no ``uniqueItems``.
    Case(
        "headers_with_identical_items",
        mutated(setting(HEADERS, [header("X-Api-Key", "1"), header("X-Api-Key", "1")])),
        False,
    ),
]

_ENGAGEMENT = [
    Case("engagement_missing", mutated(deleting(ENGAGEMENT)), True),
    *[
        Case(f"engagement_without_{field}", mutated(deleting((*ENGAGEMENT, field))), False)
        for field in ENGAGEMENT_FIELDS
    ],
    Case("engagement_design_engagement_true", mutated(setting((*ENGAGEMENT, "design_engagement"), True)), False),
    Case("engagement_design_window_true", mutated(setting((*ENGAGEMENT, "design_window"), True)), False),
    Case("engagement_design_window_as_string", mutated(setting((*ENGAGEMENT, "design_window"), "false")), False),
    Case("engagement_design_engagement_as_0", mutated(setting((*ENGAGEMENT, "design_engagement"), 0)), False),
    Case("engagement_entry_point_url", mutated(setting((*ENGAGEMENT, "entry_point"), ["url"])), True),
    Case("engagement_entry_point_empty", mutated(setting((*ENGAGEMENT, "entry_point"), [])), True),
    Case("engagement_entry_point_unknown", mutated(setting((*ENGAGEMENT, "entry_point"), ["popup"])), False),
    Case("engagement_entry_point_wrong_case", mutated(setting((*ENGAGEMENT, "entry_point"), ["Section"])), False),
    Case(
        "engagement_entry_point_duplicate",
        mutated(setting((*ENGAGEMENT, "entry_point"), ["section", "url", "section"])),
        False,
    ),
    Case("engagement_entry_point_as_string", mutated(setting((*ENGAGEMENT, "entry_point"), "section")), False),
    Case("engagement_visitor_behavior_unknown", mutated(setting((*ENGAGEMENT, "visitor_behavior"), ["idle"])), False),
    Case(
        "engagement_visitor_behavior_duplicate",
        mutated(setting((*ENGAGEMENT, "visitor_behavior"), ["flow", "flow"])),
        False,
    ),
    Case("engagement_target_audience_unknown", mutated(setting((*ENGAGEMENT, "target_audience"), ["nobody"])), False),
    Case(
        "engagement_target_audience_duplicate",
        mutated(setting((*ENGAGEMENT, "target_audience"), ["ip", "age", "ip"])),
        False,
    ),
    Case("engagement_goal_unknown", mutated(setting((*ENGAGEMENT, "goal"), ["world_peace"])), False),
    Case("engagement_goal_duplicate", mutated(setting((*ENGAGEMENT, "goal"), ["lead", "lead"])), False),
    Case(
        "engagement_consumer_identity_auth_and_unauth",
        mutated(setting((*ENGAGEMENT, "consumer_identity"), ["unauth", "auth"])),
        True,
    ),
    Case(
        "engagement_consumer_identity_without_auth",
        mutated(setting((*ENGAGEMENT, "consumer_identity"), ["unauth"])),
        False,
    ),
    Case("engagement_consumer_identity_empty", mutated(setting((*ENGAGEMENT, "consumer_identity"), [])), False),
    Case(
        "engagement_consumer_identity_unknown",
        mutated(setting((*ENGAGEMENT, "consumer_identity"), ["auth", "anonymous"])),
        False,
    ),
    Case(
        "engagement_consumer_identity_duplicate",
        mutated(setting((*ENGAGEMENT, "consumer_identity"), ["auth", "auth"])),
        False,
    ),
    Case("engagement_language_selection_true", mutated(setting((*ENGAGEMENT, "language_selection"), True)), True),
    Case(
        "engagement_language_selection_as_string",
        mutated(setting((*ENGAGEMENT, "language_selection"), "true")),
        False,
    ),
    Case("engagement_language_selection_as_1", mutated(setting((*ENGAGEMENT, "language_selection"), 1)), False),
    Case("engagement_language_selection_null", mutated(setting((*ENGAGEMENT, "language_selection"), None)), False),
    Case("engagement_as_list", mutated(setting(ENGAGEMENT, [])), False),
]

# ``null`` is never "absent": every optional (or defaulted) field must refuse it.
_NULLS = [
    Case(f"null_{'_'.join(str(part) for part in path)}", mutated(setting(path, None)), False)
    for path in [
        ("capabilities",),
        WEBHOOKS,
        ENGAGEMENT,
        RETRY,
        *[(*WEBHOOKS, key) for key in EVENT_KEYS],
        HEADERS,
    ]
]

# A key the platform does not know is an error at every level, never something silently dropped.
_UNKNOWN_KEYS = [
    Case(f"unknown_key_in_{where}", mutated(setting((*path, "unexpected"), 1)), False)
    for where, path in [
        ("manifest", ()),
        ("capabilities", CAPABILITIES),
        ("webhooks", WEBHOOKS),
        ("webhook", CONTENT),
        ("header", FIRST_HEADER),
        ("engagement", ENGAGEMENT),
    ]
] + [
    Case("unknown_key_in_retry", mutated(setting(RETRY, {"retention_time": 60, "unexpected": 1})), False),
    Case("unknown_key_differing_only_in_case", mutated(setting(("Client_Name",), "App")), False),
]

# What a client sends besides the manifest: an editor's ``$schema``, and the server's fields echoed from a read.
_NOT_MANIFEST_FIELDS = [
    Case("dollar_schema_string", mutated(setting(("$schema",), "https://example.com/manifest.schema.json")), True),
    Case("dollar_schema_number", mutated(setting(("$schema",), 1)), False),
    Case("dollar_schema_null", mutated(setting(("$schema",), None)), False),
    Case(
        "server_fields_echoed_from_a_read",
        mutated(
            setting(("id",), "abc"),
            setting(("client_id",), "abc"),
            setting(("client_secret",), "s3cret"),
            setting(("client_id_issued_at",), 1700000000),
            setting(("client_secret_expires_at",), 0),
            setting(("deleted",), False),
            setting(("enabled",), True),
            setting(("response_types",), []),
        ),
        True,
    ),
]

CASES: list[Case] = [
    *_BASELINE,
    *_TOP_LEVEL_SHAPE,
    *_CLIENT_NAME,
    *_DESCRIPTION,
    *_GRANT_TYPES,
    *_SCOPE,
    *_LOGO_URI,
    *_WEBHOOK_KEYS,
    *_RETRY,
    *_ENDPOINT,
    *_MAX_RETRIES,
    *_HEADERS,
    *_ENGAGEMENT,
    *_NULLS,
    *_UNKNOWN_KEYS,
    *_NOT_MANIFEST_FIELDS,
]
"""Every corpus case; names are unique and serve as test ids."""
