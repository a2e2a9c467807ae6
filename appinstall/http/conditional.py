"""Conditional requests (RFC 9110 §13): revisions as entity tags, and ``If-Match`` read as an expected revision.

An installation's revision is a counter; it is served as ``ETag: "7"`` and, as the platform does, as
``ac-revision: 7``. Clients of the platform send the bare number back in ``If-Match``, so both forms match.
"""

from __future__ import annotations

from appinstall.registry.revisions import ExpectedRevision

_MAX_DIGITS = 19
"""A revision is a BIGINT: a longer tag names none (and is not worth reading as a number)."""


def etag(revision: int) -> str:
    return f'"{revision}"'


def revision_headers(revision: int) -> dict[str, str]:
    return {"ETag": etag(revision), "ac-revision": str(revision)}


def expected_revision(header: str | None) -> ExpectedRevision | None:
    """The revisions an ``If-Match`` value names (``*`` names any); None when the header is missing or blank.

    A tag that is not a revision this server could have served (``"abc"``, ``"007"``) names none: it can never
    match, as a strong comparison of entity tags would have it.
    """
    if header is None or not header.strip():
        return None
    revisions: set[int] = set()
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return ExpectedRevision(any_revision=True)
        tag = tag.removeprefix("W/").strip('"')
        if len(tag) <= _MAX_DIGITS and tag.isascii() and tag.isdigit() and str(int(tag)) == tag:
            revisions.add(int(tag))
    return ExpectedRevision(frozenset(revisions))
