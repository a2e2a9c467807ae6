"""When two installation names are the same name: after Unicode compatibility folding, not byte for byte.

An account's installation names are unique, and people tell them apart by how they look, so "Straße" and
"STRASSE", an NFC and an NFD "café", "Acme" in fullwidth letters (U+FF21...) and "Acme", or "Acme" with a
zero-width space inside and "Acme" must count as one name. :func:`name_key` is what the store compares (the
column ``client_name_key``, unique among live installations of an account): NFKC with case folding (Unicode's
``toNFKC_Casefold``, spelt with the standard library as NFKC of the case-folded NFKC), without default-ignorable
characters, with whitespace runs as one space. The key is a SHA-256 digest because folding can lengthen a name
many times (one character of "ﷺ" folds to eighteen) and the column is as long as a name. Letters of other
scripts that merely look alike (Latin "a", Cyrillic U+0430) stay distinct: telling those apart needs Unicode's
confusables data, which no pinned library here carries.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final

from appinstall.manifest.rules import INVISIBLE

_IGNORED: Final = re.compile(rf"[{INVISIBLE}\U000e0000-\U000e0fff]")


def folded(name: str) -> str:
    """``name`` as compared: NFKC case-folded, default-ignorables dropped, whitespace runs as one space."""
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return " ".join(_IGNORED.sub(_space_or_nothing, text).split())


def name_key(name: str) -> str:
    """What the store keeps to compare ``name`` with the account's other names (64 hex digits)."""
    return hashlib.sha256(folded(name).encode()).hexdigest()


def _space_or_nothing(found: re.Match[str]) -> str:
    """Unicode's other spaces stand for a space; zero-width and format characters for nothing."""
    return " " if found.group().isspace() else ""
