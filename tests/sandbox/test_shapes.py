"""The comparison the published-example tests rely on catches each kind of difference, and only those."""

from __future__ import annotations

from tests.sandbox.shapes import differences

EXAMPLE = {"kind": "notification", "changes": [{"sequence": 0, "id": "a", "role": "CONSUMER"}]}


def test_a_copy_of_the_example_matches() -> None:
    assert (
        differences({"kind": "notification", "changes": [{"sequence": 0, "id": "a", "role": "CONSUMER"}]}, EXAMPLE)
        == []
    )


def test_a_missing_and_an_extra_key_are_both_reported_where_they_are() -> None:
    actual = {"kind": "notification", "changes": [{"sequence": 0, "id": "a", "rol": "CONSUMER"}]}
    assert differences(actual, EXAMPLE) == ["/changes/0: missing key 'role'", "/changes/0: extra key 'rol'"]


def test_a_value_of_another_json_type_is_reported_even_at_an_instance_specific_path() -> None:
    actual = {"kind": "notification", "changes": [{"sequence": "0", "id": "a", "role": "CONSUMER"}]}
    assert differences(actual, EXAMPLE, {"/changes/*/sequence"}) == [
        "/changes/0/sequence: string where the example has integer"
    ]


def test_a_boolean_is_not_taken_for_an_integer() -> None:
    assert differences({"n": True}, {"n": 1}) == ["/n: boolean where the example has integer"]


def test_a_different_value_is_reported_unless_its_path_is_instance_specific() -> None:
    actual = {"kind": "notification", "changes": [{"sequence": 0, "id": "b", "role": "AGENT"}]}
    assert differences(actual, EXAMPLE, {"/changes/*/id"}) == [
        "/changes/0/role: 'AGENT' where the example has 'CONSUMER'"
    ]


def test_lists_of_different_lengths_are_reported() -> None:
    assert differences({"list": [1, 2]}, {"list": [1]}) == ["/list: 2 items where the example has 1"]
