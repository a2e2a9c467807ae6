"""Connection-level limits of ``appinstall serve``: what uvicorn's httptools protocol does not bound by itself.

uvicorn (0.54, ``http="httptools"``) accepts request headers of any size and any count (llhttp has no limit and
httptools buffers an unfinished header in memory), arms its keep-alive timer only after a response (so a connection
that never sends a request, or sends its headers a byte at a time, is never closed) and has no cap on open
connections (``limit_concurrency`` answers 503 only once a request's headers are in). A few hostile clients could so
hold memory and file descriptors for ever. :func:`protocol_class` returns uvicorn's own protocol with those bounds
added at the points where they are cheap to enforce:

* before bytes reach the parser, a request whose headers have not ended within ``max_header_bytes`` is answered 431
  (the parser never holds more than one read of excess);
* each header past ``max_headers`` makes the parser stop, and the request is answered 431;
* a new connection idle for ``keep_alive_seconds`` is closed, as uvicorn closes one between requests;
* a request's headers must arrive within ``header_timeout_seconds`` of its first byte (408), its body within
  ``body_timeout_seconds`` of its headers (closed; the application sees a disconnect);
* a connection over ``max_connections`` is answered 503 and closed before it can send anything.

Refusals are RFC 9457 problem details with ``Connection: close``, like the API's other errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from appinstall.http.problems import PROBLEM_JSON, problem_body
from appinstall.settings import Settings

_HEADERS_END = (b"\r\n\r\n", b"\n\n")


@dataclass(frozen=True)
class HttpLimits:
    """The bounds, from :class:`~appinstall.settings.Settings` (``APPINSTALL_HTTP_*``)."""

    max_header_bytes: int
    max_headers: int
    keep_alive_seconds: int
    header_timeout_seconds: float
    body_timeout_seconds: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_header_bytes=settings.http_max_header_bytes,
            max_headers=settings.http_max_headers,
            keep_alive_seconds=settings.http_keep_alive_seconds,
            header_timeout_seconds=settings.http_header_timeout_seconds,
            body_timeout_seconds=settings.http_body_timeout_seconds,
            max_connections=settings.http_max_connections,
        )


def refusal(status: int, kind: str, detail: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A complete HTTP/1.1 response that refuses a request and announces that the connection closes."""
    body = json.dumps(problem_body(status, kind, detail)).encode()
    phrase = HTTPStatus(status).phrase
    lines = [
        f"HTTP/1.1 {status} {phrase}",
        f"content-type: {PROBLEM_JSON}",
        f"content-length: {len(body)}",
        "connection: close",
        *(f"{name}: {value}" for name, value in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _TooManyHeadersError(Exception):
    """Raised from the parser's header callback: the parser stops and reports a callback error."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with :class:`HttpLimits`; made per server by :func:`protocol_class`."""

    limits: ClassVar[HttpLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._awaiting_headers = True  # between a request's first byte (or the connection's start) and its headers
        self._header_bytes = 0
        self._tail = b""  # the last bytes of the previous read, where a split end of headers may begin
        self._header_count = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._refused = False

    # The connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits.max_connections:
            transport.write(
                refusal(
                    503,
                    "too-many-connections",
                    f"the server has {self.limits.max_connections} connections open "
                    "(APPINSTALL_HTTP_MAX_CONNECTIONS); try again shortly",
                    (("retry-after", "1"),),
                )
            )
            transport.close()
            self.transport = transport
            self._refused = True
            return
        super().connection_made(transport)
        # uvicorn arms its keep-alive timer only after a response: a connection that never sends is bounded too.
        self.timeout_keep_alive_task = self.loop.call_later(self.limits.keep_alive_seconds, self._close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        if self._refused:
            return
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused or self.transport.is_closing():
            return
        if self._awaiting_headers:
            if self._deadline is None:
                self._arm(self.limits.header_timeout_seconds, self._headers_too_slow)
            if not self._headers_end_in_time(data):
                self._refuse(
                    431,
                    "header-fields-too-large",
                    f"the request line and headers exceed {self.limits.max_header_bytes} bytes "
                    "(APPINSTALL_HTTP_MAX_HEADER_BYTES)",
                )
                return
        super().data_received(data)

    def _headers_end_in_time(self, data: bytes) -> bool:
        """Whether the headers under way end within the limit, counting ``data`` (not yet parsed)."""
        room = self.limits.max_header_bytes - self._header_bytes
        window = self._tail + data
        self._header_bytes += len(data)
        self._tail = window[-3:]
        if len(data) <= room:
            return True
        allowed = len(window) - len(data) + room  # the window's bytes that may still be headers
        return any(window.find(end, 0, allowed) >= 0 for end in _HEADERS_END)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_count = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self.limits.max_headers:
            raise _TooManyHeadersError
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._arm(self.limits.body_timeout_seconds, self._close)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        self._header_bytes = 0
        self._tail = b""
        self._awaiting_headers = True
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error, which is ours when the header callback stopped the parser."""
        if self._header_count > self.limits.max_headers:
            self._refuse(
                431,
                "header-fields-too-large",
                f"the request has more than {self.limits.max_headers} headers (APPINSTALL_HTTP_MAX_HEADERS)",
            )
            return
        self._cancel_deadline()
        super().send_400_response(msg)

    # Timers and refusals

    def _arm(self, seconds: float, then: Callable[[], None]) -> None:
        self._cancel_deadline()
        self._deadline = self.loop.call_later(seconds, then)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        self._refuse(
            408,
            "request-timeout",
            f"the request's headers did not arrive within {self.limits.header_timeout_seconds:g} s "
            "(APPINSTALL_HTTP_HEADER_TIMEOUT_SECONDS)",
        )

    def _refuse(self, status: int, kind: str, detail: str) -> None:
        self._cancel_deadline()
        if not self.transport.is_closing():
            self.logger.warning("refused a connection's request: %s", detail)
            self.transport.write(refusal(status, kind, detail))
            self.transport.close()

    def _close(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def protocol_class(limits: HttpLimits) -> type[LimitedHttpToolsProtocol]:
    """The protocol to give ``uvicorn.run(http=...)``: uvicorn makes one per connection, so the limits ride on it."""
    return type("LimitedHttpToolsProtocol", (LimitedHttpToolsProtocol,), {"limits": limits})
