"""What each setting accepts, in words, for the docs' table and for start-up errors."""

from __future__ import annotations

from appinstall.reference import settings_markdown
from appinstall.settings import Settings
from appinstall.settings_ranges import allowed, env_name


def test_a_bounded_integer_says_both_ends() -> None:
    assert allowed("token_ttl_seconds") == "an integer, 60 to 86400"


def test_a_number_with_open_bounds_says_each() -> None:
    assert allowed("webhook_retry_jitter") == "a number, ≥ 0, < 1"


def test_choices_booleans_and_json_lists_say_their_form() -> None:
    assert allowed("signing_algorithm") == "one of RS256, ES256, EdDSA"
    assert allowed("dev") == "true or false"
    assert "JSON list" in allowed("webhook_allow_cidrs")


def test_the_environment_variable_of_a_field() -> None:
    assert env_name("token_ttl_seconds") == "APPINSTALL_TOKEN_TTL_SECONDS"


def test_the_configuration_table_gives_every_setting_what_it_allows() -> None:
    table = settings_markdown()
    assert "| `APPINSTALL_TOKEN_TTL_SECONDS` | `3600` | an integer, 60 to 86400 |" in table
    assert "| `APPINSTALL_PORT` | `8080` | an integer, 1 to 65535 |" in table
    for name in Settings.model_fields:
        assert f"| `{env_name(name)}` |" in table
