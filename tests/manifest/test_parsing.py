from appinstall.manifest.parsing import DocumentError, parse_document


def _problems(text: str | bytes) -> list[tuple[str, str]]:
    try:
        parse_document(text)
    except DocumentError as error:
        return [(problem.pointer, problem.code) for problem in error.problems]
    return []


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
