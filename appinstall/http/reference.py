"""The interactive API reference at ``/docs``, served from a Python package's own files: no CDN, works offline.

FastAPI's default page loads Swagger UI from a CDN (and its favicon from fastapi.tiangolo.com), so on a machine
without internet ``/docs`` was blank. Here the page's script and stylesheet come from ``swagger-ui-bundle-v2``
(Swagger UI 5, which renders the OpenAPI 3.1 document FastAPI writes; the 4.x of ``swagger-ui-bundle`` does not),
mounted under ``/docs/assets``. ReDoc, FastAPI's second page, has no such package and is not served. The page is
written here rather than by FastAPI's ``get_swagger_ui_html``, whose inline script a strict Content-Security-Policy
would have to allow by hash; here the one line of start-up is a script file of its own.
"""

from __future__ import annotations

from html import escape
from typing import Final

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

PAGE: Final = "/docs"
ASSETS: Final = "/docs/assets"
START: Final = "/docs/start.js"

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",  # the bundle and start.js: no inline script (FastAPI's page had one)
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes as it renders
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",  # the OpenAPI document, and "Try it out" against this server only
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
_HEADERS: Final = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Content-Type-Options": "nosniff"}

_PAGE_HTML: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{start}"></script>
</body>
</html>
"""

# Written here (FastAPI's page inlines the same call): read where the document is from the page, and start.
_START_JS: Final = """"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  presets: [SwaggerUIBundle.presets.apis],
});
"""


def serve_reference(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="reference-assets")
    page = _PAGE_HTML.format(
        title=escape(f"{app.title}: HTTP API reference"),
        assets=ASSETS,
        start=START,
        openapi_url=escape(app.openapi_url or "/openapi.json"),
    )

    async def reference() -> HTMLResponse:
        return HTMLResponse(page, headers=_HEADERS)

    async def start() -> Response:
        return Response(_START_JS, media_type="text/javascript", headers=_HEADERS)

    app.add_api_route(PAGE, reference, methods=["GET"], include_in_schema=False)
    app.add_api_route(START, start, methods=["GET"], include_in_schema=False)
