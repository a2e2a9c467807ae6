"""HTTP routes of the sandbox, at the platform's paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from appinstall.accounts.auth import StoreDep
from appinstall.sandbox import service
from appinstall.sandbox.models import Discovery

router = APIRouter(tags=["sandbox"])


@router.get("/api/account/{account_id}/service/baseURI.json", summary="Domain discovery (the platform's CSDS)")
async def discovery(
    account_id: str,
    request: Request,
    store: StoreDep,
    version: Annotated[str | None, Query(description="The platform's API version; ignored.")] = None,
) -> Discovery:
    """No credentials, as on the platform: connectors call it first, to learn where everything else is."""
    configured = request.app.state.settings.public_url
    return await service.discover(store, account_id, str(configured or request.base_url))
