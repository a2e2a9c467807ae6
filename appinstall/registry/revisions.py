"""The revision a change expects to apply to: the compare-and-set a client asks for, in the registry's words.

An installation's revision is a counter. A client that read revision 7 and changes the installation says so (over
HTTP, in ``If-Match``); if another change landed in between, this one is refused rather than silently undoing the
other. How the expectation was written on the wire is the view's business (``http.conditional``).
"""

from __future__ import annotations

from dataclasses import dataclass

from appinstall.errors import PreconditionFailed, PreconditionRequired


@dataclass(frozen=True)
class ExpectedRevision:
    """The revisions a change may apply to: any at all (``If-Match: *``), or one of ``revisions``."""

    revisions: frozenset[int] = frozenset()
    any_revision: bool = False

    def allows(self, revision: int) -> bool:
        return self.any_revision or revision in self.revisions


def check_expected(expected: ExpectedRevision | None, revision: int, *, required: bool = True) -> None:
    """Refuse a change whose expectation is missing (when ``required``) or names another revision than ``revision``."""
    if expected is None:
        if required:
            raise PreconditionRequired(
                "precondition-required",
                "send If-Match with the revision you last read (its ETag or ac-revision)",
                current_revision=revision,
            )
        return
    if not expected.allows(revision):
        raise PreconditionFailed(
            "precondition-failed",
            f"the installation changed since you read it: it is at revision {revision}; read it again",
            current_revision=revision,
        )
