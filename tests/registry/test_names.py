"""Names compare after NFKC case folding, without invisible characters (pure policy, no store)."""

from __future__ import annotations

import pytest

from appinstall.registry.names import folded, name_key


@pytest.mark.parametrize(
    ("name", "meant"),
    [
        ("Straße", "strasse"),
        ("Cafe\u0301", "caf\u00e9"),
        ("\uff21\uff43\uff4d\uff45", "acme"),
        ("\ufb01le", "file"),
        ("Ac\u200bme\u2060\ufe0f", "acme"),
        ("Acme\U000e0041\U000e007f", "acme"),
        ("  My \u00a0\u2003 App ", "my app"),
    ],
)
def test_a_name_folds_to_its_plain_lower_case_form(name: str, meant: str) -> None:
    assert folded(name) == meant


def test_names_of_other_scripts_that_look_alike_stay_distinct() -> None:
    assert name_key("Acme") != name_key("\u0410cme")  # Cyrillic capital A


def test_a_key_fits_the_column_however_much_folding_lengthens_the_name() -> None:
    assert len(folded("\ufdfa" * 100)) > 1000
    assert len(name_key("\ufdfa" * 100)) == 64
