"""Property tests: whatever a client uploads, the validator answers with problems; it never crashes.

The validator sits behind an HTTP endpoint and a CLI that anyone can feed, so an exception on some odd input is
a 500 (or a traceback) where a person needed a sentence. These properties throw arbitrary JSON, arbitrary bytes
and near-miss manifests (the seed with a few random edits) at it, and check that every answer is well formed:
each problem has a code, a message and a JSON pointer that a client can follow back into what it sent.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appinstall import ValidationResult, validate_document, validate_manifest
from appinstall.manifest.errors import Problem
from tests.manifest.corpus import SEED

JsonPath = tuple[str | int, ...]

_MISSING = object()


def _keys_of(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys_of(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys_of(item)


# Keys the model knows, so that random objects sometimes reach past the top level instead of all being refused
# for their first unknown key.
KNOWN_KEYS = sorted(
    {
        *_keys_of(SEED),
        "retry",
        "retention_time",
        "ms.MessagingEventNotification.ExConversationChangeNotification",
    }
)

keys = st.sampled_from(KNOWN_KEYS) | st.text(max_size=12)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["client_credentials", "msg.consumer", "https://example.com/hooks", "auth", "section"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
small_json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=3),
    max_leaves=8,
)


def resolve(document: Any, pointer: str) -> Any:
    """Follow an RFC 6901 pointer into ``document``; ``_MISSING`` if it leads nowhere."""
    if pointer == "":
        return document
    node = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdecimal() and int(token) < len(node):
            node = node[int(token)]
        else:
            return _MISSING
    return node


def points_into(document: Any, problem: Problem) -> bool:
    """Whether the problem's pointer names something in the document, or a required key absent from an object."""
    if resolve(document, problem.pointer) is not _MISSING:
        return True
    parent, _, key = problem.pointer.rpartition("/")
    container = resolve(document, parent)
    return (
        problem.code == "required"
        and isinstance(container, dict)
        and key.replace("~1", "/").replace("~0", "~") not in container
    )


def assert_well_formed(result: ValidationResult) -> None:
    assert isinstance(result, ValidationResult)
    assert result.valid == (result.manifest is not None)
    for problem in [*result.errors, *result.warnings]:
        assert problem.pointer == "" or problem.pointer.startswith("/"), problem
        assert problem.code, problem
        assert problem.message, problem


# --- (a) Arbitrary JSON values -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_validate_document_answers_any_json_value_with_well_formed_problems(document: Any) -> None:
    assert_well_formed(validate_document(document))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(keys, small_json_values, max_size=6))
def test_validate_document_answers_any_json_object_with_pointers_into_it(document: dict[str, Any]) -> None:
    result = validate_document(document)

    assert_well_formed(result)
    for problem in result.errors:
        assert points_into(document, problem), problem


# --- (b) Arbitrary bytes and text ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_validate_manifest_answers_any_bytes(data: bytes) -> None:
    assert_well_formed(validate_manifest(data))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_validate_manifest_answers_any_text(text: str) -> None:
    assert_well_formed(validate_manifest(text))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]",:0123456789.eE+- \n\\uatrfslnNIy', max_size=80))
def test_validate_manifest_answers_any_json_like_text(text: str) -> None:
    """Text made of JSON's own characters reaches deeper into the parser than random text does."""
    assert_well_formed(validate_manifest(text))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000 + "]" * 100_000, id="arrays_nested_far_beyond_the_recursion_limit"),
        pytest.param('{"a":' * 100_000 + "1" + "}" * 100_000, id="objects_nested_far_beyond_the_recursion_limit"),
        pytest.param(
            '{"a":' * (sys.getrecursionlimit() - 100) + '{"b":1,"b":2}' + "}" * (sys.getrecursionlimit() - 100),
            id="duplicate_key_nested_just_below_the_recursion_limit",
        ),
    ],
)
def test_validate_manifest_reports_deeply_nested_input_instead_of_raising(text: str) -> None:
    result = validate_manifest(text)

    assert_well_formed(result)
    assert not result.valid


# --- (c) Near-miss manifests: the seed with a few random edits -----------------------------------------------


def _paths(value: Any, prefix: JsonPath = ()) -> Iterator[JsonPath]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _at(document: Any, path: JsonPath) -> Any:
    for part in path:
        document = document[part]
    return document


@st.composite
def mutated_seeds(draw: st.DrawFn) -> dict[str, Any]:
    """The seed after one to three edits: replace a leaf with any JSON value, delete a key, or add a key."""
    document: dict[str, Any] = copy.deepcopy(SEED)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        leaves = [path for path in paths if path and not isinstance(_at(document, path), dict | list)]
        keyed = [path for path in paths if path and isinstance(path[-1], str)]
        objects = [path for path in paths if isinstance(_at(document, path), dict)]
        edits = [edit for edit, targets in (("replace", leaves), ("delete", keyed), ("add", objects)) if targets]
        edit = draw(st.sampled_from(edits))
        if edit == "replace":
            path = draw(st.sampled_from(leaves))
            _at(document, path[:-1])[path[-1]] = draw(small_json_values)
        elif edit == "delete":
            path = draw(st.sampled_from(keyed))
            del _at(document, path[:-1])[path[-1]]
        else:
            path = draw(st.sampled_from(objects))
            _at(document, path)[draw(keys)] = draw(small_json_values)
    return document


@settings(max_examples=200, deadline=None)
@given(mutated_seeds())
def test_every_problem_in_an_edited_seed_points_at_something_in_it_or_at_a_missing_required_key(
    document: dict[str, Any],
) -> None:
    result = validate_document(document)

    assert_well_formed(result)
    for problem in [*result.errors, *result.warnings]:
        assert points_into(document, problem), problem


def test_resolve_follows_escaped_keys_and_list_indexes() -> None:
    """The pointer check above is only as good as ``resolve``; pin its reading of RFC 6901."""
    document = {"a/b": [{"m~n": 1}]}

    assert resolve(document, "/a~1b/0/m~0n") == 1
    assert resolve(document, "/a~1b/1") is _MISSING
    assert resolve(document, "/a~1b/x") is _MISSING
    assert resolve(document, "") is document
