"""Request limits enforced before any route runs: body size (413) and media type (415)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appinstall.http.problems import problem_response

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = ("application/json", "application/merge-patch+json")


class _BodyTooLargeError(Exception):
    pass


class RequestLimits:
    """ASGI middleware: refuse bodies over ``max_body_bytes`` (by header or while streaming) and non-JSON bodies.

    A declared ``Content-Length`` over the limit is refused before reading a byte; a chunked body is counted as it
    streams. Routes that take forms (the OAuth token endpoints) are listed in ``form_paths``. A route whose body is
    many documents at once (the batch publish) has a limit of its own: ``path_limits`` pairs a regular expression
    that must match the whole path with the limit there.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        form_path_prefixes: tuple[str, ...] = (),
        path_limits: Sequence[tuple[str, int]] = (),
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.form_path_prefixes = form_path_prefixes
        self.path_limits = [(re.compile(pattern), limit) for pattern, limit in path_limits]

    def limit_of(self, path: str) -> int:
        """The largest body accepted at ``path``."""
        return next((limit for pattern, limit in self.path_limits if pattern.fullmatch(path)), self.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        limit = self.limit_of(scope["path"])
        length = headers.get("content-length")
        if length is not None and (not (length.isascii() and length.isdigit()) or int(length) > limit):
            await self._refuse_size(scope, receive, send, limit)
            return
        media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        is_form_path = scope["path"].startswith(self.form_path_prefixes) if self.form_path_prefixes else False
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        if has_body and not is_form_path and media_type not in _JSON_TYPES:
            response = problem_response(
                415,
                "unsupported-media-type",
                f"send JSON (Content-Type: application/json), not {media_type or 'no content type'!r}",
                instance=scope["path"],
            )
            await response(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLargeError
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _BodyTooLargeError:
            await self._refuse_size(scope, receive, send, limit)

    async def _refuse_size(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413,
            "payload-too-large",
            f"the request body is larger than {limit} bytes",
            instance=scope["path"],
        )
        await response(scope, receive, send)
