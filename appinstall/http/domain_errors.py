"""The one place where the services' errors (``appinstall.errors``) become RFC 9457 problem details.

Each kind of refusal has one status; the problem's ``type`` is the error's ``kind``, its title the status's
phrase, its ``errors`` the located problems and its extension members the error's ``extra``. A 401 carries the
challenge that tells a client how to authenticate (RFC 9110 §11.6.1).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse

from appinstall.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unauthorized,
)
from appinstall.http.problems import ExceptionHandlers, ProblemError, problem_answer

STATUS: dict[type[DomainError], int] = {
    Invalid: 400,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PreconditionFailed: 412,
    PreconditionRequired: 428,
}

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="appinstall"'}


def status_of(error: DomainError) -> int:
    """The HTTP status of an error, by its class; 500 for a kind of refusal nobody mapped (a bug to fix here)."""
    return next((status for kind, status in STATUS.items() if isinstance(error, kind)), 500)


def problem_of(error: DomainError) -> ProblemError:
    """The problem detail an error is answered with."""
    headers = dict(CHALLENGE) if isinstance(error, Unauthorized) else None
    return ProblemError(
        status_of(error), error.kind, error.detail, errors=error.problems, headers=headers, **error.extra
    )


async def _on_domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return problem_answer(request, problem_of(error))


DOMAIN_EXCEPTION_HANDLERS: ExceptionHandlers = {DomainError: _on_domain_error}
