"""Each kind of domain error is answered with its problem detail: status, type, title, detail, members, headers."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from appinstall.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Problem,
    Unauthorized,
)
from appinstall.http.domain_errors import DOMAIN_EXCEPTION_HANDLERS, problem_of

pytestmark = pytest.mark.anyio

TYPE_BASE = "https://appinstall.dev/problems/"


async def _answer(error: DomainError) -> httpx.Response:
    app = FastAPI(exception_handlers=DOMAIN_EXCEPTION_HANDLERS)

    @app.get("/things/7")
    async def thing() -> None:
        raise error

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        return await client.get("/things/7")


@pytest.mark.parametrize(
    ("error", "status", "title"),
    [
        (Invalid("invalid-cursor", "no such cursor"), 400, "Bad Request"),
        (Unauthorized("unauthorized", "who are you"), 401, "Unauthorized"),
        (Forbidden("forbidden", "not you"), 403, "Forbidden"),
        (NotFound("installation-not-found", "no such installation"), 404, "Not Found"),
        (Conflict("client-name-taken", "the name is taken"), 409, "Conflict"),
        (PreconditionFailed("precondition-failed", "it changed"), 412, "Precondition Failed"),
        (PreconditionRequired("precondition-required", "send If-Match"), 428, "Precondition Required"),
    ],
)
async def test_each_kind_of_error_is_a_problem_with_its_status_type_title_and_detail(
    error: DomainError, status: int, title: str
) -> None:
    answer = await _answer(error)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {
        "type": TYPE_BASE + error.kind,
        "title": title,
        "status": status,
        "detail": error.detail,
        "instance": "/things/7",
    }


async def test_located_problems_are_the_errors_member() -> None:
    problem = Problem("/client_name", "not_unique", "is already used by another installation")
    answer = await _answer(Conflict("client-name-taken", "the name is taken", problems=[problem]))
    assert answer.json()["errors"] == [
        {
            "pointer": "/client_name",
            "code": "not_unique",
            "message": "is already used by another installation",
            "hint": None,
        }
    ]


async def test_extra_members_are_extension_members_of_the_problem() -> None:
    answer = await _answer(PreconditionFailed("precondition-failed", "it changed", current_revision=3))
    assert answer.json()["current_revision"] == 3


async def test_an_unauthorized_caller_is_told_how_to_authenticate() -> None:
    answer = await _answer(Unauthorized("unauthorized", "who are you"))
    assert answer.headers["www-authenticate"] == 'Bearer realm="appinstall"'


async def test_other_refusals_carry_no_challenge() -> None:
    answer = await _answer(Forbidden("forbidden", "not you"))
    assert "www-authenticate" not in answer.headers


def test_a_kind_of_refusal_nobody_mapped_is_a_server_error() -> None:
    class UnmappedError(DomainError):
        pass

    assert problem_of(UnmappedError("unmapped", "nobody said")).status == 500
