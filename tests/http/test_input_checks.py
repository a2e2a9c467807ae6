"""The input checks, without a server: what each class of hostile input is refused as, and where it is said to be."""

from __future__ import annotations

import json

import pytest

from appinstall.http.input_checks import (
    INT64_MAX,
    INT64_MIN,
    MAX_JSON_DEPTH,
    json_body_problem,
    path_problem,
    text_problem,
    urlencoded_problem,
)
from tests.http.hostile import GOOD_TEXTS


def _code_and_pointer(body: bytes) -> tuple[str, str] | None:
    found = json_body_problem(body)
    return None if found is None else (found.problem.code, found.problem.pointer)


def test_a_nul_escape_is_named_by_its_json_pointer() -> None:
    body = b'{"body": {"changes": [{"event": {"message": "a\\u0000b"}}]}}'
    assert _code_and_pointer(body) == ("nul_character", "/body/body/changes/0/event/message")


def test_a_lone_surrogate_escape_is_named_by_its_json_pointer() -> None:
    assert _code_and_pointer(b'{"client_name": "x\\ud800"}') == ("lone_surrogate", "/body/client_name")


def test_a_lone_surrogate_in_a_key_is_shown_escaped_in_the_pointer() -> None:
    found = json_body_problem(b'{"\\udfff": 1}')
    assert found is not None
    assert (found.problem.code, found.problem.pointer) == ("lone_surrogate", "/body/\\udfff")
    assert json.dumps(found.problem.to_dict(), ensure_ascii=False).encode()  # it can be sent back


def test_a_lone_surrogate_as_raw_utf8_bytes_is_not_utf8() -> None:
    assert _code_and_pointer(b'{"a": "\xed\xa0\x80"}') == ("invalid_utf8", "/body")


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_unicode_text_passes_raw_and_escaped(text: str) -> None:
    assert json_body_problem(json.dumps({"t": text}, ensure_ascii=False).encode()) is None
    assert json_body_problem(json.dumps({"t": text}, ensure_ascii=True).encode()) is None  # pairs as \\ud83d\\udc4b


def test_nesting_up_to_the_limit_passes_and_one_more_is_refused() -> None:
    assert json_body_problem(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is None
    deeper = MAX_JSON_DEPTH + 1
    assert _code_and_pointer(b"[" * deeper + b"]" * deeper) == ("too_deep", "/body" + "/0" * MAX_JSON_DEPTH)


def test_many_shallow_arrays_and_objects_pass() -> None:
    assert json_body_problem(json.dumps([{"a": [1], "b": {"c": 2}}] * 1000).encode()) is None


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert json_body_problem(json.dumps({"text": '[{"\\' * 100}).encode()) is None


def test_too_deep_nesting_is_found_beside_strings_full_of_brackets() -> None:
    deeper = MAX_JSON_DEPTH + 1
    body = b'["]]]]\\"]]]",' + b"[" * deeper + b"]" * deeper + b"]"
    assert _code_and_pointer(body)[0] == "too_deep"


def test_nesting_past_the_recursion_limit_is_refused_not_raised() -> None:
    assert _code_and_pointer(b"[" * 100_000 + b"]" * 100_000) == ("too_deep", "/body")


@pytest.mark.parametrize("number", [INT64_MAX, INT64_MIN, 10**18, 1.5e308])
def test_numbers_a_bigint_or_a_double_holds_pass(number: float) -> None:
    assert json_body_problem(json.dumps({"n": number}).encode()) is None


@pytest.mark.parametrize("text", [str(INT64_MAX + 1), str(INT64_MIN - 1), "9" * 30, "1" * 5000, "1e999", "-1e999"])
def test_numbers_out_of_range_are_refused_where_they_are(text: str) -> None:
    assert _code_and_pointer(f'{{"a": [0, {text}]}}'.encode()) == ("number_out_of_range", "/body/a/1")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_refused(constant: str) -> None:
    assert _code_and_pointer(f'{{"a": {constant}}}'.encode()) == ("number_out_of_range", "/body/a")


def test_long_digit_strings_inside_strings_pass() -> None:
    assert json_body_problem(json.dumps({"phone": "1" * 5000}).encode()) is None


def test_a_body_that_is_not_json_is_left_to_the_route() -> None:
    assert json_body_problem(b'{"a": "\\u0000"') is None
    assert json_body_problem(b"grant_type=x") is None


def test_a_form_field_with_a_nul_is_named() -> None:
    found = urlencoded_problem(b"grant_type=client_credentials&client_id=a%00b", "form")
    assert found is not None and (found.problem.code, found.problem.pointer) == ("nul_character", "/form/client_id")


def test_a_query_value_that_is_not_utf8_is_named() -> None:
    found = urlencoded_problem(b"cursor=%ED%A0%80", "query")
    assert found is not None and (found.problem.code, found.problem.pointer) == ("invalid_utf8", "/query/cursor")


def test_percent_encoded_unicode_in_a_query_passes() -> None:
    assert urlencoded_problem("client_name=漢字 👋".encode(), "query") is None
    assert urlencoded_problem(b"client_name=%E6%BC%A2%E5%AD%97+%F0%9F%91%8B", "query") is None


def test_a_nul_in_the_path_is_found_before_and_after_percent_decoding() -> None:
    assert path_problem("/api/accounts/a\x00b", None) is not None
    found = path_problem("/api/accounts/a\ufffdb", b"/api/accounts/a%ED%A0%80b")
    assert found is not None and found.problem.code == "invalid_utf8"
    assert path_problem("/api/accounts/漢字", "/api/accounts/漢字".encode()) is None


@pytest.mark.parametrize("text", GOOD_TEXTS)
def test_text_problem_accepts_unicode(text: str) -> None:
    assert text_problem(text) is None


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_json_in_utf16_or_utf32_is_refused_so_no_escape_gets_past(encoding: str) -> None:
    assert _code_and_pointer('{"a": "\\u0000"}'.encode(encoding)) == ("nul_character", "/body")


def test_a_key_given_twice_is_checked_in_both_places() -> None:
    assert _code_and_pointer(b'{"a": "\\u0000", "a": "fine"}') == ("nul_character", "/body/a")


_HEX_ID = "2969e404f3be1c8cdda63f0b72d205ab5afb3fe3e3d7d72ab58245f564fdfd91"  # a platform originatorId


def test_a_notification_whose_hex_ids_look_like_numbers_is_passed_without_a_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parses: list[str] = []
    monkeypatch.setattr("appinstall.http.input_checks.json.loads", lambda text, **_: parses.append(text))
    body = json.dumps({"originatorId": _HEX_ID, "serverTimestamp": 1528371161893, "id": "1234567890123456789012"})
    assert json_body_problem(body.encode()) is None
    assert parses == []  # only numbers outside strings can be out of range: the hex id and the digits are text


def test_a_number_out_of_range_beside_hex_ids_is_still_refused() -> None:
    body = f'{{"originatorId": "{_HEX_ID}", "sequence": 1e999}}'.encode()
    assert _code_and_pointer(body) == ("number_out_of_range", "/body/sequence")


def test_nesting_that_alternates_arrays_and_objects_is_refused_one_past_the_limit() -> None:
    def nested(depth: int) -> object:
        return [] if depth == 1 else ([nested(depth - 1)] if depth % 2 else {"a": nested(depth - 1)})

    assert json_body_problem(json.dumps(nested(MAX_JSON_DEPTH)).encode()) is None
    assert _code_and_pointer(json.dumps(nested(MAX_JSON_DEPTH + 1)).encode())[0] == "too_deep"


def test_a_batch_of_notifications_is_passed_without_a_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    parses: list[str] = []
    monkeypatch.setattr("appinstall.http.input_checks.json.loads", lambda text, **_: parses.append(text))
    one = {"body": {"changes": [{"originatorId": _HEX_ID, "event": {"message": "[{ 1e999 NaN", "type": "X"}}]}}
    assert json_body_problem(json.dumps([one] * 1000).encode()) is None
    assert parses == []  # its thousands of brackets are five deep, and the risky text is inside strings


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "ends in a backslash \\\\", "n": 1e999}',  # the escaped backslash does not escape the quote
        b'{"a": "an escaped quote \\" then 1e999 inside", "n": 1e999}',
        b'{"a": "\\\\\\"", "n": NaN}',  # a backslash, then a quote, both escaped
    ],
)
def test_escapes_in_strings_do_not_hide_what_follows_them(body: bytes) -> None:
    assert _code_and_pointer(body)[0] == "number_out_of_range"


def test_escaped_quotes_do_not_end_a_string_early() -> None:
    assert json_body_problem(b'{"a": "say \\"1e999\\" and \\\\\\"NaN\\\\\\" please"}') is None


@pytest.mark.parametrize("number", [str(INT64_MAX + 1), str(2**64), "1e400", "NaN"])
def test_a_number_out_of_range_in_a_batch_of_notifications_is_found_where_it_is(number: str) -> None:
    one = {"body": {"changes": [{"originatorId": _HEX_ID, "id": "1234567890123456789012", "sequence": 0}]}}
    batch = json.dumps([one] * 100).replace('"sequence": 0', f'"sequence": {number}', 1)
    [code, pointer] = _code_and_pointer(batch.encode())
    assert (code, pointer) == ("number_out_of_range", "/body/0/body/changes/0/sequence")
