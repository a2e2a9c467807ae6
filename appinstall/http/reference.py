"""The interactive API reference at ``/docs``, served from a Python package's own files: no CDN, works offline.

FastAPI's default page loads Swagger UI from a CDN (and its favicon from fastapi.tiangolo.com), so on a machine
without internet ``/docs`` was blank. Here the page's script and stylesheet come from ``swagger-ui-bundle-v2``
(Swagger UI 5, which renders the OpenAPI 3.1 document FastAPI writes; the 4.x of ``swagger-ui-bundle`` does not),
mounted under ``/docs/assets``. ReDoc, FastAPI's second page, has no such package and is not served.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

PAGE: Final = "/docs"
ASSETS: Final = "/docs/assets"


def serve_reference(app: FastAPI) -> None:
    """Add ``/docs`` and its assets to ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="reference-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    async def reference() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title}: HTTP API reference",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",  # none: the default is fetched from fastapi.tiangolo.com
            oauth2_redirect_url=None,
        )

    app.add_api_route(PAGE, reference, methods=["GET"], include_in_schema=False)
