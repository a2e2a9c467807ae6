"""``If-Match`` is read as the revisions it names, exactly as an entity-tag comparison would match them."""

from __future__ import annotations

import pytest

from appinstall.http.conditional import expected_revision


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_or_blank_if_match_expects_nothing(header: str | None) -> None:
    assert expected_revision(header) is None


@pytest.mark.parametrize("header", ['"7"', "7", 'W/"7"', '"3", "7"', "*"])
def test_an_etag_a_bare_number_a_weak_tag_a_list_or_a_star_names_revision_7(header: str) -> None:
    expected = expected_revision(header)
    assert expected is not None and expected.allows(7)


@pytest.mark.parametrize("header", ['"8"', '"007"', '"abc"', '"7 "', "1" * 400])
def test_a_tag_that_is_not_exactly_revision_7_does_not_name_it(header: str) -> None:
    expected = expected_revision(header)
    assert expected is not None and not expected.allows(7)
