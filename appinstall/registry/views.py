"""HTTP routes of the registry, at the messaging platform's app-install paths.

Bodies are read as raw bytes and validated by the manifest validator (not by FastAPI), so that duplicate keys
are caught and every error carries a JSON pointer into what the client sent. ``?v=1.0`` is accepted and ignored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from appinstall.http.conditional import expected_revision, revision_headers
from appinstall.http.deps import AccountDep, AccountReadingDep, OperatorDep, SettingsDep, StoreDep
from appinstall.http.event_types import event_type_argument
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.manifest.schema import manifest_schema
from appinstall.registry import listing, service
from appinstall.registry.models import Installation, InstallationFilter, Page
from appinstall.settings import Settings

BASE = "/api/account/{account_id}/configuration/app-install/installations"

router = APIRouter(tags=["installations"])

_MANIFEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Manifest"}}},
    }
}
_MERGE_PATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/merge-patch+json": {"schema": {"type": "object"}}},
    }
}

VersionQuery = Annotated[str | None, Query(alias="v", description="The platform's API version; ignored.")]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The revision last read (ETag or ac-revision).")]


async def _document(request: Request) -> Any:
    """The body as JSON (duplicate keys refused), or the 400 of a manifest that is not one, with the problems."""
    try:
        return parse_document(await request.body())
    except DocumentError as error:
        raise service.invalid_manifest(error.problems) from None


def _respond(
    request: Request,
    settings: Settings,
    installation: Installation,
    status: int = 200,
    *,
    just_issued: bool = False,
    **extra: Any,
) -> JSONResponse:
    """The installation on the wire. A secret created or rotated by this very request is always shown."""
    show = not settings.mask_client_secret or just_issued
    headers = revision_headers(installation.revision)
    if status == 201:
        headers["Location"] = f"{request.url.path.rstrip('/')}/{installation.id}"
    return JSONResponse({**installation.to_wire(show_secret=show), **extra}, status_code=status, headers=headers)


@router.post(BASE, status_code=201, openapi_extra=_MANIFEST_BODY, summary="Install an app from a manifest")
async def create_installation(
    account_id: str, request: Request, account: AccountDep, settings: SettingsDep, v: VersionQuery = None
) -> JSONResponse:
    installation = await service.create(
        account.store, account_id, await _document(request), account.actor, allow_local_http=settings.dev
    )
    return _respond(request, settings, installation, 201, just_issued=True)


ListQuery = Annotated[list[str], Query()]


async def discovery_filter(
    client_name: str | None = None,
    enabled: bool | None = None,
    include_deleted: bool = False,
    event_type: ListQuery = [],  # noqa: B006 - FastAPI copies query defaults
    entry_point: ListQuery = [],  # noqa: B006
    visitor_behavior: ListQuery = [],  # noqa: B006
    target_audience: ListQuery = [],  # noqa: B006
    goal: ListQuery = [],  # noqa: B006
    consumer_identity: ListQuery = [],  # noqa: B006
) -> InstallationFilter:
    """The list's filters, shared by the account list and the operator's query across accounts.

    Every filter must hold: ``event_type`` (repeatable) keeps apps subscribed to each given notification type;
    the engagement filters keep apps whose engagement lists each given value. (Async only so that FastAPI does not
    hand it to its thread pool.)
    """
    engagement = {
        "entry_point": entry_point,
        "visitor_behavior": visitor_behavior,
        "target_audience": target_audience,
        "goal": goal,
        "consumer_identity": consumer_identity,
    }
    return InstallationFilter(
        client_name=client_name,
        enabled=enabled,
        include_deleted=include_deleted,
        event_types=tuple(event_type_argument(name, where="event_type") for name in event_type),
        engagement={kind: tuple(values) for kind, values in engagement.items() if values},
    )


FilterDep = Annotated[InstallationFilter, Depends(discovery_filter)]
Limit = Annotated[int, Query(ge=1, le=500)]


def _page_response(request: Request, settings: Settings, page: Page) -> JSONResponse:
    show = not settings.mask_client_secret
    headers = {}
    if page.next_cursor:
        headers["Link"] = f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
    return JSONResponse([item.to_wire(show_secret=show) for item in page.items], headers=headers)


@router.get(BASE, summary="List and discover installations")
async def list_installations(
    account_id: str,
    request: Request,
    reading: AccountReadingDep,
    settings: SettingsDep,
    criteria: FilterDep,
    cursor: str | None = None,
    limit: Limit = 100,
    v: VersionQuery = None,
) -> JSONResponse:
    """Installations of the account, oldest first, as a JSON array (the platform's shape); more pages are
    linked with ``Link: <…>; rel="next"``."""
    page = await listing.search(reading.store, account_id, criteria, cursor, limit, connection=reading.connection)
    return _page_response(request, settings, page)


@router.get("/api/installations", summary="Discover installations across all accounts (operator)")
async def discover_all(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    _: OperatorDep,
    criteria: FilterDep,
    cursor: str | None = None,
    limit: Limit = 100,
) -> JSONResponse:
    return _page_response(request, settings, await listing.search(store, None, criteria, cursor, limit))


@router.get(BASE + "/{installation_id}", summary="Read one installation")
async def get_installation(
    account_id: str,
    installation_id: str,
    request: Request,
    reading: AccountReadingDep,
    settings: SettingsDep,
    v: VersionQuery = None,
) -> JSONResponse:
    installation = await service.get(
        reading.store, account_id, installation_id, include_deleted=True, connection=reading.connection
    )
    return _respond(request, settings, installation)


@router.put(BASE + "/{installation_id}", openapi_extra=_MANIFEST_BODY, summary="Replace an installation")
async def replace_installation(
    account_id: str,
    installation_id: str,
    request: Request,
    account: AccountDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
    v: VersionQuery = None,
) -> JSONResponse:
    document = await _document(request)
    expected = expected_revision(if_match)
    installation = await service.replace(
        account.store, account_id, installation_id, document, expected, account.actor, allow_local_http=settings.dev
    )
    return _respond(request, settings, installation)


@router.patch(BASE + "/{installation_id}", openapi_extra=_MERGE_PATCH_BODY, summary="Merge-patch an installation")
async def patch_installation(
    account_id: str,
    installation_id: str,
    request: Request,
    account: AccountDep,
    settings: SettingsDep,
    if_match: IfMatch = None,
    v: VersionQuery = None,
) -> JSONResponse:
    document = await _document(request)
    expected = expected_revision(if_match)
    installation = await service.patch(
        account.store, account_id, installation_id, document, expected, account.actor, allow_local_http=settings.dev
    )
    return _respond(request, settings, installation)


@router.delete(BASE + "/{installation_id}", status_code=204, summary="Delete an installation (soft)")
async def delete_installation(
    account_id: str,
    installation_id: str,
    account: AccountDep,
    if_match: IfMatch = None,
    v: VersionQuery = None,
) -> Response:
    await service.remove(account.store, account_id, installation_id, expected_revision(if_match), account.actor)
    return Response(status_code=204)


@router.post(BASE + "/{installation_id}/secret", summary="Rotate the client secret")
async def rotate_secret(
    account_id: str,
    installation_id: str,
    request: Request,
    account: AccountDep,
    settings: SettingsDep,
    grace_seconds: Annotated[int | None, Query(ge=0, le=30 * 86_400)] = None,
    v: VersionQuery = None,
) -> JSONResponse:
    """A new secret, shown in this response; the previous one keeps working for ``grace_seconds``."""
    grace = settings.secret_grace_seconds if grace_seconds is None else grace_seconds
    installation, grace_end = await service.rotate_secret(
        account.store, account_id, installation_id, grace, account.actor
    )
    return _respond(request, settings, installation, just_issued=True, previous_secret_valid_until=grace_end // 1000)


@router.get(BASE + "/{installation_id}/audit", summary="The installation's change history")
async def audit(
    account_id: str, installation_id: str, reading: AccountReadingDep, v: VersionQuery = None
) -> list[dict[str, Any]]:
    return await listing.history(reading.store, account_id, installation_id, connection=reading.connection)


def manifest_component() -> dict[str, Any]:
    """The manifest schema as an OpenAPI component (its ``$defs`` lifted to components)."""
    schema = manifest_schema()
    definitions = schema.pop("$defs", {})
    for key in ("$schema", "$id"):
        schema.pop(key, None)
    text = _rewrite_refs(schema)
    return {"Manifest": text, **{name: _rewrite_refs(value) for name, value in definitions.items()}}


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (value.replace("#/$defs/", "#/components/schemas/") if key == "$ref" else _rewrite_refs(value))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


__all__ = ["manifest_component", "router"]
