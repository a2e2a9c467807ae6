"""``plan_changes``: what a manifest would change in an installed app, by JSON pointer, without a server."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from appinstall.manifest import validate_document
from appinstall.registry.plan import Change, plan_changes
from tests.conftest import SEED

CONTENT = "ms.MessagingEventNotification.ContentEvent"


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    result = validate_document(document)
    assert result.manifest is not None, result.errors
    return result.manifest.to_document()


@pytest.fixture
def installed() -> dict[str, Any]:
    """The seed as the server serves it: normalised, plus the server's own fields."""
    return {
        "id": "abc",
        **normalised(SEED),
        "client_id": "abc",
        "client_secret": "s3cret",
        "client_id_issued_at": 1_700_000_000,
        "client_secret_expires_at": 0,
        "enabled": True,
        "deleted": False,
    }


@pytest.fixture
def manifest() -> dict[str, Any]:
    return normalised(copy.deepcopy(SEED))


def test_an_unchanged_manifest_plans_no_changes(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    assert plan_changes(installed, manifest) == []


def test_server_fields_are_not_manifest_changes(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    installed.update(id="other", client_secret="rotated", enabled=False, deleted=True, client_id_issued_at=1)
    assert plan_changes(installed, manifest) == []


def test_a_changed_scalar_is_reported_with_its_old_and_new_value(
    installed: dict[str, Any], manifest: dict[str, Any]
) -> None:
    manifest["description"] = "Now better"
    assert plan_changes(installed, manifest) == [Change("changed", "/description", "App description", "Now better")]


def test_an_added_key_is_reported_with_its_new_value(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    del installed["logo_uri"]
    assert plan_changes(installed, manifest) == [Change("added", "/logo_uri", new=SEED["logo_uri"])]


def test_a_removed_key_is_reported_with_its_old_value(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    del manifest["description"]
    assert plan_changes(installed, manifest) == [Change("removed", "/description", old="App description")]


def test_nested_objects_are_compared_key_by_key(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    manifest["capabilities"]["webhooks"][CONTENT]["max_retries"] = 0
    del manifest["capabilities"]["webhooks"]["cqm.ExConversationChangeNotification"]
    assert plan_changes(installed, manifest) == [
        Change("changed", f"/capabilities/webhooks/{CONTENT}/max_retries", 3, 0),
        Change(
            "removed",
            "/capabilities/webhooks/cqm.ExConversationChangeNotification",
            old=installed["capabilities"]["webhooks"]["cqm.ExConversationChangeNotification"],
        ),
    ]


def test_an_array_is_one_value_changed_as_a_whole(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    manifest["capabilities"]["engagement"]["goal"] = ["lead"]
    [change] = plan_changes(installed, manifest)
    assert change == Change(
        "changed", "/capabilities/engagement/goal", SEED["capabilities"]["engagement"]["goal"], ["lead"]
    )


def test_a_reordered_array_is_a_change(installed: dict[str, Any], manifest: dict[str, Any]) -> None:
    manifest["capabilities"]["engagement"]["goal"].reverse()
    assert [change.pointer for change in plan_changes(installed, manifest)] == ["/capabilities/engagement/goal"]


def test_true_is_not_one_as_json_sees_it() -> None:
    assert plan_changes({"a": [1], "b": 1}, {"a": [True], "b": True}) == [
        Change("changed", "/a", [1], [True]),
        Change("changed", "/b", 1, True),
    ]


def test_an_object_replaced_by_a_scalar_is_one_change() -> None:
    assert plan_changes({"a": {"b": 1}}, {"a": "x"}) == [Change("changed", "/a", {"b": 1}, "x")]


def test_pointers_escape_slashes_and_tildes_in_keys() -> None:
    assert plan_changes({"a/b": {"c~d": 1}}, {"a/b": {"c~d": 2}}) == [Change("changed", "/a~1b/c~0d", 1, 2)]


def test_planning_against_nothing_adds_every_top_level_key(manifest: dict[str, Any]) -> None:
    changes = plan_changes({}, manifest)
    assert [change.pointer for change in changes] == [f"/{key}" for key in manifest]
    assert all(change.kind == "added" for change in changes)


def test_changes_as_json_carry_only_the_values_that_exist() -> None:
    assert Change("added", "/a", new=1).to_dict() == {"kind": "added", "pointer": "/a", "new": 1}
    assert Change("removed", "/a", old=1).to_dict() == {"kind": "removed", "pointer": "/a", "old": 1}
    assert Change("changed", "/a", 1, 2).to_dict() == {"kind": "changed", "pointer": "/a", "old": 1, "new": 2}
