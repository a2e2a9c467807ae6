"""RFC 9457 problem details: the one error shape of the HTTP API."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from appinstall.manifest import Problem as ManifestProblem
from appinstall.manifest.errors import pointer

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://appinstall.dev/problems/"


class ProblemError(Exception):
    """Raised by views and the HTTP helpers they share; rendered as ``application/problem+json`` with ``status``.

    Services raise ``appinstall.errors`` instead, which ``http.domain_errors`` maps to these."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: Sequence[ManifestProblem] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra


def problem_body(status: int, kind: str, detail: str) -> dict[str, Any]:
    """The members every problem has (also written by the connection-level refusals of ``http.serving``)."""
    return {
        "type": _TYPE_BASE + kind,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }


def problem_response(
    status: int,
    kind: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[ManifestProblem] = (),
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, kind, detail)
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [problem.to_dict() for problem in errors]
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_answer(request: Request, error: ProblemError) -> JSONResponse:
    """The response to ``request`` that ``error`` stands for."""
    return problem_response(
        error.status,
        error.kind,
        error.detail,
        instance=request.url.path,
        errors=error.errors,
        headers=error.headers,
        **error.extra,
    )


async def _on_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_answer(request, error)


async def _on_http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kinds = {404: "not-found", 405: "method-not-allowed"}
    detail = error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
    return problem_response(
        error.status_code,
        kinds.get(error.status_code, "http-error"),
        detail,
        instance=request.url.path,
        headers=dict(error.headers or {}),
    )


async def _on_request_validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors():
        location = [part for part in item.get("loc", ()) if isinstance(part, str | int)]
        problems.append(ManifestProblem(pointer(location), str(item.get("type", "invalid")), str(item.get("msg", ""))))
    return problem_response(
        400, "invalid-request", "the request is not valid", instance=request.url.path, errors=problems
    )


ExceptionHandlers = dict[int | type[Exception], Callable[[Request, Any], Coroutine[Any, Any, Response]]]

EXCEPTION_HANDLERS: ExceptionHandlers = {
    ProblemError: _on_problem,
    StarletteHTTPException: _on_http_error,
    RequestValidationError: _on_request_validation,
}
