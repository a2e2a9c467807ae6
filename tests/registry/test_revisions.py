"""A change that expects a revision is refused when the installation is at another, or when it expects none."""

from __future__ import annotations

import pytest

from appinstall.errors import PreconditionFailed, PreconditionRequired
from appinstall.registry.revisions import ExpectedRevision, check_expected


def test_the_expected_revision_lets_the_change_through() -> None:
    check_expected(ExpectedRevision(frozenset({4})), 4)


def test_another_revision_is_refused_with_the_current_one() -> None:
    with pytest.raises(PreconditionFailed) as refused:
        check_expected(ExpectedRevision(frozenset({3})), 4)
    assert refused.value.extra == {"current_revision": 4}


def test_no_expectation_is_refused_where_one_is_required() -> None:
    with pytest.raises(PreconditionRequired) as refused:
        check_expected(None, 4)
    assert refused.value.extra == {"current_revision": 4}


def test_no_expectation_is_let_through_where_none_is_required() -> None:
    check_expected(None, 4, required=False)


def test_any_revision_lets_every_revision_through() -> None:
    check_expected(ExpectedRevision(any_revision=True), 4)
