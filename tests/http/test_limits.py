"""RequestLimits refuses a Content-Length that is not a number of bytes, before reading the body."""

from __future__ import annotations

import pytest
from starlette.types import Message, Receive, Scope, Send

from appinstall.http.limits import RequestLimits

pytestmark = pytest.mark.anyio


async def _status_for(content_length: str) -> int:
    reached: list[bool] = []

    async def application(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(True)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/things",
        "headers": [(b"content-length", content_length.encode("latin-1")), (b"content-type", b"application/json")],
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await RequestLimits(application, max_body_bytes=1000)(scope, receive, send)
    return 200 if reached else int(sent[0]["status"])


@pytest.mark.parametrize("content_length", ["¹", "1e3", "-1", "99999"])
async def test_a_length_that_is_not_a_small_number_of_bytes_is_refused(content_length: str) -> None:
    assert await _status_for(content_length) == 413


async def test_a_small_length_passes() -> None:
    assert await _status_for("2") == 200
