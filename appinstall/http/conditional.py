"""Conditional requests (RFC 9110 §13): revisions as entity tags, and ``If-Match`` checks.

An installation's revision is a counter; it is served as ``ETag: "7"`` and, as the platform does, as
``ac-revision: 7``. Clients of the platform send the bare number back in ``If-Match``, so both forms match.
"""

from __future__ import annotations

from appinstall.http.problems import ProblemError


def etag(revision: int) -> str:
    return f'"{revision}"'


def revision_headers(revision: int) -> dict[str, str]:
    return {"ETag": etag(revision), "ac-revision": str(revision)}


def if_match_allows(header: str, revision: int) -> bool:
    """Whether an ``If-Match`` value names ``revision`` (``*`` names any)."""
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        if tag == str(revision):
            return True
    return False


def require_match(header: str | None, revision: int, *, required: bool = True) -> None:
    """428 when a required ``If-Match`` is missing, 412 when it names another revision."""
    if header is None or not header.strip():
        if required:
            raise ProblemError(
                428,
                "precondition-required",
                "send If-Match with the revision you last read (its ETag or ac-revision)",
                current_revision=revision,
            )
        return
    if not if_match_allows(header, revision):
        raise ProblemError(
            412,
            "precondition-failed",
            f"the installation changed since you read it: it is at revision {revision}; read it again",
            current_revision=revision,
        )
