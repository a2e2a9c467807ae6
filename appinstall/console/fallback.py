"""Any other address under ``/console``: the console's own "Not found" page, not the API's JSON problem.

Included after every console route and the static files, so it answers only what nothing else matched.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from appinstall.console.deps import current_session
from appinstall.console.pages import PREFIX, ConsoleRoute, render

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


@router.api_route(PREFIX + "/{rest:path}", methods=["GET", "POST"])
async def not_found(request: Request, rest: str) -> Response:
    await current_session(request)  # signed in, the page keeps its menu
    detail = "There is no such page in the console. Its menu leads to every page."
    return render(request, "error.html", 404, title="Not found", detail=detail)
