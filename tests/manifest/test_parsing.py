"""Strict JSON reading: duplicate keys, non-standard numbers and broken documents, as text and as bytes (read by
orjson first)."""

from __future__ import annotations

import pytest

from appinstall.manifest.parsing import DocumentError, parse_document


def _problems_of(data: str | bytes) -> list[tuple[str, str]]:
    try:
        parse_document(data)
    except DocumentError as error:
        return [(problem.pointer, problem.code) for problem in error.problems]
    return []


def _problems(text: str | bytes) -> list[tuple[str, str]]:
    """The problems found, the same whether the document comes as text or as the bytes a request body is."""
    found = _problems_of(text)
    if isinstance(text, str):
        assert _problems_of(text.encode()) == found
    return found


def test_a_duplicated_top_level_key_is_an_error_at_its_pointer() -> None:
    assert _problems('{"client_name": "a", "client_name": "b"}') == [("/client_name", "duplicate_key")]


def test_duplicated_keys_are_found_at_any_depth_and_all_reported() -> None:
    text = '{"a": 1, "b": {"c": [1, {"d": 1, "d": 2}], "e": 0, "e": 3}, "a": 2}'
    assert sorted(_problems(text)) == [
        ("/a", "duplicate_key"),
        ("/b/c/1/d", "duplicate_key"),
        ("/b/e", "duplicate_key"),
    ]


def test_a_key_needing_escapes_is_reported_with_an_escaped_pointer() -> None:
    assert _problems('{"a/b~c": 1, "a/b~c": 2}') == [("/a~1b~0c", "duplicate_key")]


def test_broken_json_is_one_error_that_names_line_and_column() -> None:
    try:
        parse_document('{\n  "client_name": "a",\n}')
    except DocumentError as error:
        [problem] = error.problems
        assert problem.code == "invalid_json"
        assert problem.pointer == ""
        assert "line 3, column 1" in problem.message
    else:
        raise AssertionError("broken JSON was accepted")


def test_nan_and_infinity_are_not_json() -> None:
    assert _problems('{"max_retries": NaN}') == [("", "invalid_json")]
    assert _problems('{"max_retries": -Infinity}') == [("", "invalid_json")]


def test_bytes_that_are_not_utf8_are_refused() -> None:
    assert _problems(b'{"client_name": "\xff"}') == [("", "invalid_json")]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert parse_document(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_absurdly_deep_nesting_is_an_error_not_a_crash() -> None:
    assert _problems("[" * 100_000 + "]" * 100_000) == [("", "invalid_json")]


def test_an_empty_document_is_invalid_json() -> None:
    assert _problems("") == [("", "invalid_json")]


def test_a_key_given_twice_in_two_spellings_is_an_error() -> None:
    assert _problems('{"ab": 1, "\\u0061b": 2}') == [("/ab", "duplicate_key")]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'{"a\\u003ab": "c\\u003Ad"}', {"a:b": "c:d"}),  # escaped colons: as many pairs as before
        (b'{"a": "text \\\\u003a"}', {"a": "text \\u003a"}),  # a backslash, then letters: no escape
        (b'{"a": ":", "b": {"c": "::"}}', {"a": ":", "b": {"c": "::"}}),
    ],
)
def test_colons_in_text_and_escapes_are_read_as_they_are(data: bytes, expected: object) -> None:
    assert parse_document(data) == expected


def test_nesting_deeper_than_orjson_writes_is_read() -> None:
    found = parse_document(b"[" * 300 + b"]" * 300)
    depth = 1
    while found:
        [found] = found
        depth += 1
    assert depth == 300


def test_a_document_without_a_key_twice_is_read_without_the_strict_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("appinstall.manifest.parsing.json.loads", lambda *_, **__: pytest.fail("read strictly"))
    assert parse_document(b'[{"a": 1, "b": [true, null, 1.5, "x"]}]') == [{"a": 1, "b": [True, None, 1.5, "x"]}]
