"""The interactive API reference works without internet: its page loads nothing from another host."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.anyio

_LOADED = re.compile(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]|url:\s*['"]([^'"]+)['"]""")


async def _page(client: httpx.AsyncClient) -> str:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


async def test_the_reference_page_loads_only_this_servers_files(client: httpx.AsyncClient) -> None:
    loaded = [first or second for first, second in _LOADED.findall(await _page(client))]
    assert loaded, "the page loads its script, stylesheet and the OpenAPI document"
    for url in loaded:
        if url.startswith("data:"):
            continue
        assert "://" not in url and not url.startswith("//"), f"the page loads {url} from another host"
        assert (await client.get(url)).status_code == 200, url


async def test_the_reference_page_runs_a_swagger_ui_that_reads_openapi_3_1(client: httpx.AsyncClient) -> None:
    script = await client.get("/docs/assets/swagger-ui-bundle.js")
    versions = re.findall(rb'PACKAGE_VERSION:"(\d+)\.', script.content)
    assert versions and int(versions[0]) >= 5  # 4.x shows "unable to render" for 3.1
    assert (await client.get("/openapi.json")).json()["openapi"].startswith("3.1")


async def test_redoc_which_would_need_a_cdn_is_not_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/redoc")).status_code == 404
