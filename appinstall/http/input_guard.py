"""The one place hostile input is refused: path, query string and body, before any route reads them.

Routes parse their input in many ways (FastAPI parameters, forms parsed by hand, JSON parsed by the manifest
parser, the Send API's own parser); checking each would leave the next route unchecked. This middleware sees every
request, so every route is covered, including ones added later. What it refuses is in ``input_checks``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from appinstall.http.input_checks import Finding, json_body_problem, path_problem, urlencoded_problem
from appinstall.http.problems import problem_response

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_JSON_TYPES = ("application/json", "application/merge-patch+json")
_FORM = "application/x-www-form-urlencoded"


class InputGuard:
    """ASGI middleware: 400 with a problem detail that names the part (and, in a body, the JSON pointer) of the
    first NUL, lone surrogate, non-UTF-8 byte, too deep nesting or out-of-range number in the request.

    A JSON or form body is read whole here (the size limit applies as it streams, see ``RequestLimits``, which
    must wrap this) and handed on unchanged to the route.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found = path_problem(scope["path"], scope.get("raw_path")) or urlencoded_problem(
            scope.get("query_string", b""), "query"
        )
        if found is not None:
            await self._refuse(found, scope, receive, send)
            return
        media_type = _media_type(scope)
        if scope["method"] not in _BODY_METHODS or media_type not in (*_JSON_TYPES, _FORM):
            await self.app(scope, receive, send)
            return
        body, last = await _read_body(receive)
        found = urlencoded_problem(body, "form") if media_type == _FORM else json_body_problem(body)
        if found is not None:
            await self._refuse(found, scope, receive, send)
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return whole if last["type"] == "http.request" else last
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, found: Finding, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            400, "invalid-input", found.detail, instance=_printable(scope["path"]), errors=[found.problem]
        )
        await response(scope, receive, send)


def _media_type(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name.lower() == b"content-type":
            return str(value.decode("latin-1").split(";", 1)[0].strip().lower())
    return ""


async def _read_body(receive: Receive) -> tuple[bytes, Message]:
    """The whole body, and the last message that carried it (a disconnect ends it early)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), message


def _printable(path: str) -> str:
    """The path as the problem's ``instance``: what made it unusable is shown escaped, not sent back as is."""
    return path.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace").replace("\x00", "\\x00")
