"""RequestLimits refuses a Content-Length that is not a number of bytes, before reading the body, and over the
limit of the path (the batch publish has a larger one)."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from appinstall.http.limits import RequestLimits

pytestmark = pytest.mark.anyio


async def _status_for(content_length: str, path: str = "/things") -> int:
    reached: list[bool] = []

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(True)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"content-length", content_length.encode("latin-1")), (b"content-type", b"application/json")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    limits = RequestLimits(application, max_body_bytes=1000, path_limits=[(r"/api/account/[^/]+/batch", 5000)])
    await limits(scope, receive, send)
    return 200 if reached else int(sent[0]["status"])


@pytest.mark.parametrize("content_length", ["¹", "1e3", "-1", "99999"])
async def test_a_length_that_is_not_a_small_number_of_bytes_is_refused(content_length: str) -> None:
    assert await _status_for(content_length) == 413


async def test_a_small_length_passes() -> None:
    assert await _status_for("2") == 200


async def test_a_path_with_a_limit_of_its_own_takes_a_larger_body() -> None:
    assert await _status_for("4000", "/api/account/a1/batch") == 200


async def test_a_path_with_a_limit_of_its_own_still_refuses_past_it() -> None:
    assert await _status_for("5001", "/api/account/a1/batch") == 413


async def test_a_path_that_only_contains_the_larger_one_keeps_the_default() -> None:
    assert await _status_for("4000", "/api/account/a1/batch/more") == 413
