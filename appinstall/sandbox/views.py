"""HTTP routes of the sandbox, at the platform's paths."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from appinstall.accounts.auth import StoreDep
from appinstall.sandbox import service
from appinstall.sandbox.models import Discovery
from appinstall.tokens import errors
from appinstall.tokens.service import AppIdentity, ConsumerIdentity
from appinstall.tokens.views import Tokens, app_identity

CONVERSATION = "/api/account/{account_id}/messaging/consumer/conversation"
VersionQuery = Annotated[str | None, Query(alias="v", description="The platform's API version; ignored.")]

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


async def consumer_identity(account_id: str, request: Request, tokens: Tokens) -> ConsumerIdentity:
    """The verified ConsumerJWS of ``X-LP-ON-BEHALF`` (or the newer ``LP-On-Behalf``), or the platform's 401."""
    token = request.headers.get("x-lp-on-behalf") or request.headers.get("lp-on-behalf")
    if token is None or not token.strip():
        raise errors.unauthorized(errors.CONSUMER_JWS_MISSING, "the ConsumerJWS is missing from X-LP-ON-BEHALF")
    return await tokens.verify_consumer_jws(token.strip(), account_id)


AppDep = Annotated[AppIdentity, Depends(app_identity)]
ConsumerDep = Annotated[ConsumerIdentity, Depends(consumer_identity)]


def _wake_worker(request: Request) -> None:
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()


@router.post(CONVERSATION, summary="Open a conversation as a consumer (Send API)")
async def open_conversation(
    account_id: str, request: Request, store: StoreDep, _: AppDep, consumer: ConsumerDep, v: VersionQuery = None
) -> JSONResponse:
    """``[userprofile.SetUserProfile, cm.ConsumerRequestConversation]`` → one answer per request, in order."""
    requests = service.parse_requests(await request.body(), many=True)
    answers = await service.open_conversations(store, account_id, consumer, requests)
    _wake_worker(request)
    return JSONResponse(answers)


@router.post(CONVERSATION + "/send", summary="Send an event or close, as a consumer (Send API)")
async def send(
    account_id: str, request: Request, store: StoreDep, _: AppDep, consumer: ConsumerDep, v: VersionQuery = None
) -> JSONResponse:
    """``ms.PublishEvent`` (ContentEvent, RichContentEvent, AcceptStatusEvent, ChatStateEvent) or
    ``cm.UpdateConversationField`` to close."""
    [single] = service.parse_requests(await request.body(), many=False)
    answer = await service.send(store, account_id, consumer, single)
    _wake_worker(request)
    return JSONResponse(answer)
