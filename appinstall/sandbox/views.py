"""HTTP routes of the sandbox, at the platform's paths."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response

from appinstall.http.deps import AccountDep, SendLimiterDep, SettingsDep, StoreDep, TokensDep, app_state
from appinstall.http.plain_route import PlainRoute
from appinstall.http.problems import ProblemError
from appinstall.http.public_url import public_base
from appinstall.sandbox import modes, service
from appinstall.sandbox.models import (
    DEFAULT_AGENT,
    AgentAccept,
    AgentEvent,
    AgentSetting,
    AgentSettingUpdate,
    Discovery,
)
from appinstall.sandbox.ratelimit import TOO_MANY_REQUESTS, retry_after_header
from appinstall.tokens import errors
from appinstall.tokens.errors import PlatformError
from appinstall.tokens.service import AppIdentity, ConsumerIdentity
from appinstall.tokens.views import app_identity

CONVERSATION = "/api/account/{account_id}/messaging/consumer/conversation"
VERSION = "The platform's API version; ignored."
VersionQuery = Annotated[str | None, Query(alias="v", description=VERSION)]
VERSION_PARAMETER = {
    "description": VERSION,
    "in": "query",
    "name": "v",
    "required": False,
    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": VERSION, "title": "V"},
}

router = APIRouter(tags=["sandbox"])


@router.get(
    "/api/account/{account_id}/service/baseURI.json",
    response_model=Discovery,
    summary="Domain discovery (the platform's CSDS)",
)
async def discovery(
    account_id: str,
    request: Request,
    settings: SettingsDep,
    version: Annotated[str | None, Query(description="The platform's API version; ignored.")] = None,
) -> JSONResponse:
    """No credentials, as on the platform: connectors call it first, to learn where everything else is. The same
    answer for every well-formed account id, existing or not, so that it tells no one which accounts exist."""
    base = public_base(request, settings)
    answer = service.discover(account_id, base.url)
    return JSONResponse(answer.model_dump(mode="json"), headers=base.cache_headers)


async def consumer_identity(account_id: str, request: Request, tokens: TokensDep) -> ConsumerIdentity:
    """The verified ConsumerJWS of ``X-LP-ON-BEHALF`` (or the newer ``LP-On-Behalf``), or the platform's 401."""
    token = request.headers.get("x-lp-on-behalf") or request.headers.get("lp-on-behalf")
    if token is None or not token.strip():
        raise errors.unauthorized(errors.CONSUMER_JWS_MISSING, "the ConsumerJWS is missing from X-LP-ON-BEHALF")
    return await tokens.verify_consumer_jws(token.strip(), account_id)


async def consumer_within_limit(
    limiter: SendLimiterDep, consumer: Annotated[ConsumerIdentity, Depends(consumer_identity)]
) -> ConsumerIdentity:
    """The consumer, if its Send API budget has room for one more request; else the platform's 429."""
    wait = limiter.take(f"{consumer.account_id}\0{consumer.lp_consumer_id}", time.monotonic())
    if wait is not None:
        retry_after = retry_after_header(wait)
        raise PlatformError(
            429,
            TOO_MANY_REQUESTS,
            "Too Many Requests",
            f"this consumer sends faster than {limiter.per_second:g} requests per second; retry after {retry_after} s",
            {"Retry-After": retry_after},
        )
    return consumer


AppDep = Annotated[AppIdentity, Depends(app_identity)]
ConsumerDep = Annotated[ConsumerIdentity, Depends(consumer_within_limit)]


@router.post(CONVERSATION, summary="Open a conversation as a consumer (Send API)")
async def open_conversation(
    account_id: str, request: Request, store: StoreDep, _: AppDep, consumer: ConsumerDep, v: VersionQuery = None
) -> JSONResponse:
    """``[userprofile.SetUserProfile, cm.ConsumerRequestConversation]`` → one answer per request, in order."""
    requests = service.parse_requests(await request.body(), many=True)
    answers = await service.open_conversations(store, account_id, consumer, requests)
    return JSONResponse(answers)


async def send(account_id: str, request: Request) -> JSONResponse:
    """``ms.PublishEvent`` (ContentEvent, RichContentEvent, AcceptStatusEvent, ChatStateEvent) or
    ``cm.UpdateConversationField`` to close."""
    state = app_state(request)
    # What the dependencies of the routes above check, in the same order: the AppJWT, the ConsumerJWS, the limit.
    await app_identity(account_id, request, state.tokens)
    consumer = await consumer_within_limit(
        state.send_limiter, await consumer_identity(account_id, request, state.tokens)
    )
    [single] = service.parse_requests(await request.body(), many=False)
    answer, appended = await service.send(state.store, account_id, consumer, single)
    if appended is not None:
        state.agents.heard(appended)  # committed: a scripted agent answers in the background, never holding this up
    return JSONResponse(answer)


# The Send API's hottest route, served without FastAPI's parameter machinery (``PlainRoute``; about 0.07 ms of a
# 1.2 ms request, py-spy); documented as the others, its ``v`` parameter included.
router.add_api_route(
    CONVERSATION + "/send",
    send,
    methods=["POST"],
    summary="Send an event or close, as a consumer (Send API)",
    route_class_override=PlainRoute,
    openapi_extra={"parameters": [VERSION_PARAMETER]},
)


# --- The agent side: the sandbox's own API (admin key or operator), for tests and demos -----------------------

AGENT = "/api/account/{account_id}/sandbox/conversations/{conversation_id}"
_AGENT_PROBLEMS = {
    service.CONVERSATION_NOT_FOUND: "conversation-not-found",
    errors.BAD_REQUEST_BODY: "conversation-closed",
}


@contextmanager
def _as_problem() -> Iterator[None]:
    """The agent side is the sandbox's own API, called with admin keys: its errors are problem details like the
    rest of that API, not the platform's envelope that the consumer side (which shares the service) answers in."""
    try:
        yield
    except PlatformError as error:
        raise ProblemError(error.status, _AGENT_PROBLEMS.get(error.code, "invalid-request"), error.details) from None


@router.post(AGENT + "/accept", summary="Accept a conversation as an agent (sandbox)")
async def accept(
    account_id: str,
    conversation_id: str,
    request: Request,
    account: AccountDep,
    body: AgentAccept | None = None,
) -> dict[str, str]:
    """The agent joins as ASSIGNED_AGENT; subscribed connectors get the conversation's UPSERT."""
    agent_id = body.agent_id if body is not None else DEFAULT_AGENT
    with _as_problem():
        await service.accept(account.store, account_id, conversation_id, agent_id)
    return {"conversationId": conversation_id, "agentId": agent_id}


@router.post(AGENT + "/events", summary="Publish an event as the assigned agent (sandbox)")
async def agent_event(
    account_id: str, conversation_id: str, request: Request, account: AccountDep, body: AgentEvent
) -> dict[str, int | None]:
    """Text or rich content, typing (a chat state) or a read receipt, from the agent, with role ASSIGNED_AGENT."""
    with _as_problem():
        sequence = await service.agent_event(account.store, account_id, conversation_id, body.event)
    return {"sequence": sequence}


@router.post(AGENT + "/close", summary="Close a conversation as the agent (sandbox)")
async def agent_close(account_id: str, conversation_id: str, request: Request, account: AccountDep) -> dict[str, str]:
    with _as_problem():
        await service.close(account.store, account_id, conversation_id, "AGENT")
    return {"conversationId": conversation_id, "state": "CLOSE"}


# --- The scripted agent of an account (admin key or operator) ---------------------------------------------------

AGENT_SETTING = "/api/account/{account_id}/sandbox/agent"


@router.get(AGENT_SETTING, summary="The scripted agent answering the account's consumers (sandbox)")
async def get_agent(account_id: str, account: AccountDep, settings: SettingsDep) -> AgentSetting:
    """``mode`` in effect, and ``source``: the account's own choice, or the server's APPINSTALL_SANDBOX_AGENT."""
    return await modes.agent_setting(account.store, account_id, settings.sandbox_agent)


@router.put(AGENT_SETTING, summary="Choose the scripted agent of the account (sandbox)")
async def put_agent(account_id: str, account: AccountDep, body: AgentSettingUpdate) -> AgentSetting:
    """``{"mode": "echo"}`` or ``{"mode": "off"}``, for this account whatever the server's default; kept across
    restarts. Applies to consumer messages committed from now on."""
    await modes.set_account_mode(account.store, account_id, body.mode)
    return AgentSetting(mode=body.mode, source="account")


@router.delete(AGENT_SETTING, status_code=204, summary="Follow the server's default agent again (sandbox)")
async def delete_agent(account_id: str, account: AccountDep) -> Response:
    await modes.clear_account_mode(account.store, account_id)
    return Response(status_code=204)
