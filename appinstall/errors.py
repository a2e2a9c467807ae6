"""The errors services raise: what went wrong, in the domain's words, with no HTTP in them.

A service is called by a route, a CLI command, a console page or a worker; each of those decides what an error
becomes for its caller. So an error names its kind of failure by class (``NotFound``, ``Conflict``, …) and carries
what any caller may show: ``kind``, a stable slug (the problem type of the HTTP API, ``installation-not-found``);
``detail``, a sentence for a human; ``problems``, each located at a JSON pointer into what was sent; and ``extra``
members (``current_revision``). The one place that turns these into HTTP answers is ``appinstall.http.domain_errors``;
the status code lives there, not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appinstall.manifest.errors import Problem

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "Unauthorized",
]


class DomainError(Exception):
    """Something a service refuses to do; the subclass says which kind of refusal."""

    def __init__(self, kind: str, detail: str, *, problems: Sequence[Problem] = (), **extra: Any) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.problems = list(problems)
        self.extra = extra


class Invalid(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """What was sent is not acceptable as it stands; ``problems`` say where and why."""


class Unauthorized(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The caller did not say who they are, or said it with a credential that is not (or no longer) valid."""


class Forbidden(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The caller is known but may not do this."""


class NotFound(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The thing does not exist, or exists where the caller may not see it (the two look the same on purpose)."""


class Conflict(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The thing's current state (or another thing's) does not allow the change."""


class PreconditionFailed(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The thing changed since the caller read it: the caller's expected revision is not the current one."""


class PreconditionRequired(DomainError):  # noqa: N818 - reads as a sentence: "raise NotFound(…)"
    """The change needs the revision the caller last read, and none was given."""
