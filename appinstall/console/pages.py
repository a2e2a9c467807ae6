"""How console routes answer: HTML pages from templates, redirects, and error pages instead of JSON problems.

Console routes use ``ConsoleRoute``: a service's ``DomainError`` becomes the error page with the status the API
would give (``http.domain_errors.status_of``), and a request without a live session is sent to the sign-in page
(a GET) or refused with 401 (anything else), so no view repeats either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape

from appinstall import __version__
from appinstall.errors import DomainError
from appinstall.http.domain_errors import status_of

PREFIX = "/console"

_templates = Environment(
    loader=PackageLoader("appinstall.console", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_url(name: str) -> str:
    """A static file's URL, with the version in it so a new release is never served a cached old script."""
    return f"{PREFIX}/static/{name}?v={quote(__version__)}"


def json_text(value: Any) -> str:
    """A value as JSON text to read (characters as they are; the template escapes it for HTML). Jinja's ``tojson``
    is for values inside a script: it writes ``\u2014`` for "—"."""
    return json.dumps(value, ensure_ascii=False)


_templates.globals["static_url"] = static_url
_templates.filters["json_text"] = json_text
_templates.globals["PREFIX"] = PREFIX


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``template`` with ``context``, plus what every page shows: the session (if any) and its token."""
    session = getattr(request.state, "console_session", None)
    page = _templates.get_template(template).render(request=request, session=session, **context)
    return HTMLResponse(page, status_code=status)


def redirect(url: str) -> RedirectResponse:
    """See Other: after a form is posted, the browser GETs the result, so a reload does not post again."""
    return RedirectResponse(url, status_code=303)


class SignInRequired(Exception):  # noqa: N818 - reads as a sentence: "raise SignInRequired()"
    """The request has no live console session."""


def _sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{PREFIX}/sign-in?next={quote(target, safe='')}"


class ConsoleRoute(APIRoute):
    """An ``APIRoute`` whose refusals are pages (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInRequired:
                if request.method in ("GET", "HEAD"):
                    return redirect(_sign_in_url(request))
                return render(request, "error.html", 401, title="Signed out", detail="Sign in again to do this.")
            except DomainError as error:
                status = status_of(error)
                return render(request, "error.html", status, title=_TITLES.get(status, "Refused"), detail=error.detail)

        return answer


_TITLES = {400: "Not accepted", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 409: "Conflict"}
