"""HTTP routes of webhook delivery: publish a notification (or a batch of them), read deliveries, retry and
recover, webhook health."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from appinstall.http.deps import AccountDep, SettingsDep, StoreDep, account_access
from appinstall.http.event_types import event_type_argument
from appinstall.http.plain_route import PlainRoute
from appinstall.http.problems import ProblemError
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.registry.views import BASE
from appinstall.webhooks import service
from appinstall.webhooks.metrics import refresh_queue_gauges
from appinstall.webhooks.models import (
    BatchPublishResult,
    DeliveryPage,
    DeliveryStateView,
    DeliveryView,
    PublishResult,
    Status,
    WebhookHealthView,
)
from appinstall.webhooks.moments import LATEST_MOMENT_MS, NotATimeError, PastLatestError, moment_ms

router = APIRouter(tags=["webhooks"])

DELIVERIES = BASE + "/{installation_id}/deliveries"
Moment = Annotated[
    str | None, Query(description="A time: milliseconds since the epoch, or RFC 3339 (2026-11-25T12:00:00Z).")
]


def _moment(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return moment_ms(value)
    except PastLatestError:
        raise ProblemError(
            400,
            "invalid-parameter",
            f"{name} is past 9999-12-31: send milliseconds since the epoch from 0 to {LATEST_MOMENT_MS}",
        ) from None
    except NotATimeError:
        raise ProblemError(
            400, "invalid-parameter", f"{name} must be milliseconds since the epoch or an RFC 3339 time with a zone"
        ) from None


_NOTIFICATION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "object", "required": ["kind", "type", "body"]}}},
    }
}


_INSTALLATION_ONLY = "Deliver only to this installation of the account (404 if there is none such)."
_INSTALLATION_PARAMETER = {
    "name": "installation_id",
    "in": "query",
    "required": False,
    "schema": {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "description": _INSTALLATION_ONLY,
        "title": "Installation Id",
    },
    "description": _INSTALLATION_ONLY,
}


async def publish(account_id: str, request: Request) -> Response:
    """Answers 202 once every delivery is committed; the worker sends them."""
    account = await account_access(account_id, request)
    installation_id = request.query_params.get("installation_id")
    try:
        document = parse_document(await request.body())
    except DocumentError as error:
        raise ProblemError(400, "invalid-notification", "the body is not valid JSON", errors=error.problems) from None
    created = await service.publish(account.store, account_id, document, installation_id=installation_id)
    return Response(orjson.dumps({"deliveries": created}), status_code=202, media_type="application/json")


# The hottest route of all, served without FastAPI's parameter machinery (``PlainRoute``): the account check and the
# one query parameter are taken by hand, in the order the dependency took them; documented as before.
router.add_api_route(
    "/api/account/{account_id}/notifications",
    publish,
    methods=["POST"],
    status_code=202,
    response_model=PublishResult,
    openapi_extra={**_NOTIFICATION_BODY, "parameters": [_INSTALLATION_PARAMETER]},
    summary="Publish a notification to every subscribed installation",
    route_class_override=PlainRoute,
)


BATCH_PATH = "/api/account/{account_id}/notifications:batch"
BATCH_PATH_PATTERN = r"/api/account/[^/]+/notifications:batch"
"""The batch route's paths, for the request limits: its body has a limit of its own (``max_batch_body_bytes``)."""

_BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "minItems": 1, "maxItems": service.MAX_BATCH}}},
    }
}


@router.post(
    BATCH_PATH,
    status_code=202,
    response_model=BatchPublishResult,
    openapi_extra=_BATCH_BODY,
    summary=f"Publish up to {service.MAX_BATCH} notifications at once, all or nothing",
)
async def publish_batch(
    account_id: str,
    request: Request,
    account: AccountDep,
    installation_id: Annotated[
        str | None,
        Query(description=_INSTALLATION_ONLY),
    ] = None,
) -> Response:
    """A JSON array of notifications, stored in one transaction: 202 once every delivery of every one is committed,
    with each one's deliveries in the order sent; 400 naming the index and pointer of every bad one, and then none
    is stored. Its body may be larger than other requests' (`APPINSTALL_MAX_BATCH_BODY_BYTES`)."""
    try:
        documents = parse_document(await request.body())
    except DocumentError as error:
        raise ProblemError(400, "invalid-batch", "the body is not valid JSON", errors=error.problems) from None
    created = await service.publish_batch(account.store, account_id, documents, installation_id=installation_id)
    # Serialised once, here, by orjson (the shape of ``BatchPublishResult``, its answers dataclasses): FastAPI would
    # turn the answer into dicts, validate them and serialise them again, which for a thousand notifications cost
    # more than storing them.
    answer = {"notifications": [{"deliveries": deliveries} for deliveries in created]}
    return Response(orjson.dumps(answer), status_code=202, media_type="application/json")


@router.get(DELIVERIES, summary="List an installation's deliveries, newest first")
async def list_deliveries(
    account_id: str,
    installation_id: str,
    request: Request,
    response: Response,
    account: AccountDep,
    status: Status | None = None,
    event_type: str | None = None,
    conversation_id: str | None = None,
    since: Moment = None,
    until: Moment = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    page = await service.list_deliveries(
        account.store,
        account_id,
        installation_id,
        status=status,
        event_type=None if event_type is None else event_type_argument(event_type, where="event_type"),
        conversation_id=conversation_id,
        since=_moment(since, "since"),
        until=_moment(until, "until"),
        cursor=cursor,
        limit=limit,
    )
    if page.next_cursor:
        response.headers["Link"] = f'<{request.url.include_query_params(cursor=page.next_cursor)}>; rel="next"'
    return page


@router.get(DELIVERIES + "/{delivery_id}", summary="Read one delivery with its attempts")
async def get_delivery(
    account_id: str,
    installation_id: str,
    delivery_id: str,
    account: AccountDep,
    settings: SettingsDep,
) -> DeliveryView:
    mask = settings.mask_client_secret
    return await service.get_delivery(account.store, account_id, installation_id, delivery_id, mask_header_values=mask)


@router.post(DELIVERIES + "/recover", summary="Queue again every delivery that failed since a time")
async def recover(
    account_id: str,
    installation_id: str,
    request: Request,
    account: AccountDep,
    since: Annotated[str, Query(description="Milliseconds since the epoch, or RFC 3339.")],
) -> dict[str, int]:
    moment = _moment(since, "since")
    assert moment is not None
    count = await service.recover(account.store, account_id, installation_id, moment, account.actor)
    return {"requeued": count}


@router.post(DELIVERIES + "/{delivery_id}/retry", summary="Send a finished delivery again, with the same id")
async def retry(
    account_id: str,
    installation_id: str,
    delivery_id: str,
    request: Request,
    account: AccountDep,
) -> DeliveryView:
    view = await service.retry(account.store, account_id, installation_id, delivery_id, account.actor)
    return view


@router.get(BASE + "/{installation_id}/webhooks", summary="Health of the installation's webhooks")
async def webhook_health(account_id: str, installation_id: str, account: AccountDep) -> list[WebhookHealthView]:
    return await service.health(account.store, account_id, installation_id)


@router.get(BASE + "/{installation_id}/webhooks/state", summary="Retry mode and retention-mode state")
async def delivery_state(account_id: str, installation_id: str, account: AccountDep) -> DeliveryStateView:
    """In retention mode: `up`, `failed` (new notifications are held), `recovering` (what was held is being sent)
    or `recovered` (all of it was sent; `up` again after a short drain period)."""
    return await service.delivery_state(account.store, account_id, installation_id)


@router.post(BASE + "/{installation_id}/webhooks/{event_type}/enable", summary="Re-enable a disabled webhook")
async def enable_webhook(
    account_id: str, installation_id: str, event_type: str, account: AccountDep
) -> WebhookHealthView:
    full = event_type_argument(event_type, where="event_type")
    return await service.enable_webhook(account.store, account_id, installation_id, full, account.actor)


@router.get("/metrics", tags=["operations"], summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(store: StoreDep) -> Response:
    """Counters of this process, and the shared queue's depth and oldest age read from the store now."""
    await refresh_queue_gauges(store)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
