"""The sandbox in the console: chat as a consumer, watch or answer as the agent, see each step's notifications.

The console is a consumer of the account it shows, as a connector's user would be on the platform: one consumer
per signed-in principal and account (``console_consumer``), whose messages go through the same service calls as
the Send API's, and are heard by the account's scripted agent the same way. The agent's side (accept, answer,
close) is the sandbox's agent API. The page polls ``…/updates`` for new events and the conversation's deliveries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from appinstall.console.deps import AccountDep, ConsoleAccount, FormDep
from appinstall.console.pages import PREFIX, ConsoleRoute, redirect, render
from appinstall.console.sandbox_feed import conversation_view, delivery_rows, event_line
from appinstall.errors import Conflict, DomainError, Invalid, NotFound
from appinstall.http.deps import app_state
from appinstall.http.domain_errors import status_of
from appinstall.registry import listing
from appinstall.registry.models import Installation, InstallationFilter
from appinstall.sandbox import modes, service
from appinstall.sandbox.models import DEFAULT_AGENT, ContentEvent, ConversationRecord, StoredEvent
from appinstall.sandbox.models import Request as SendRequest
from appinstall.tokens.errors import PlatformError
from appinstall.tokens.service import ConsumerIdentity, lp_consumer_id
from appinstall.webhooks import service as webhooks

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

SANDBOX = PREFIX + "/accounts/{account_id}/sandbox"
CONVERSATION = SANDBOX + "/conversations/{conversation_id}"
MAX_MESSAGE: Final = 4000
RECENT: Final = 20
INSTALLATIONS_SHOWN: Final = 100
DELIVERIES_SHOWN: Final = 200
MODES: Final = {"echo": "echo", "off": "off"}


def console_consumer(account: ConsoleAccount) -> ConsumerIdentity:
    """The consumer the console plays in ``account``: the same one for a principal whenever it signs in."""
    external = f"console:{account.principal.actor}"
    return ConsumerIdentity(account.account_id, external, lp_consumer_id(account.account_id, external))


def _page_url(account_id: str, conversation_id: str | None = None) -> str:
    url = SANDBOX.format(account_id=quote(account_id, safe=""))
    return url if conversation_id is None else f"{url}?conversation={quote(conversation_id, safe='')}"


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@contextmanager
def _as_domain_error() -> Iterator[None]:
    """The Send API's service answers in the platform's errors; the console's pages speak the domain's."""
    try:
        yield
    except PlatformError as error:
        if error.code == service.CONVERSATION_NOT_FOUND:
            raise NotFound("conversation-not-found", error.details) from None
        if error.status == 400 and "closed" in error.details:
            raise Conflict("conversation-closed", error.details) from None
        raise Invalid("invalid-request", error.details) from None


def _message(form: dict[str, str]) -> str:
    text = form.get("message", "").strip()
    if not text:
        raise Invalid("empty-message", "type a message to send")
    if len(text) > MAX_MESSAGE:
        raise Invalid("message-too-long", f"a message here has at most {MAX_MESSAGE} characters")
    return text


def _done(request: Request, account_id: str, conversation_id: str, **answer: Any) -> Response:
    """After an action: JSON for the page's script, else back to the conversation (a form posted without it)."""
    if _wants_json(request):
        return JSONResponse({"ok": True} | answer)
    return redirect(_page_url(account_id, conversation_id))


def _refusal(request: Request, error: DomainError) -> Response:
    """The page's script reads a refusal as JSON; a plain form gets the error page (``ConsoleRoute``)."""
    if not _wants_json(request):
        raise error
    return JSONResponse({"ok": False, "error": error.kind, "detail": error.detail}, status_code=status_of(error))


async def _installations(account: ConsoleAccount) -> dict[str, Installation]:
    page = await listing.search(account.store, account.account_id, InstallationFilter(), None, INSTALLATIONS_SHOWN)
    return {installation.id: installation for installation in page.items}


async def _deliveries(account: ConsoleAccount, conversation_id: str, events: list[StoredEvent]) -> list[dict[str, Any]]:
    """The conversation's deliveries to every installation of the account, each with the step that made it."""
    installations = await _installations(account)
    found = []
    for installation_id in installations:
        page = await webhooks.list_deliveries(
            account.store,
            account.account_id,
            installation_id,
            conversation_id=conversation_id,
            limit=DELIVERIES_SHOWN,
        )
        found.extend(page.items)
    return delivery_rows(found, installations, events)


async def _agent(request: Request, account: ConsoleAccount) -> dict[str, str]:
    setting = await modes.agent_setting(account.store, account.account_id, app_state(request).settings.sandbox_agent)
    return {"mode": setting.mode, "source": setting.source}


@router.get(SANDBOX)
async def sandbox_page(
    request: Request,
    account: AccountDep,
    conversation: str | None = None,
) -> Response:
    consumer = console_consumer(account)
    recent = await service.recent_conversations(account.store, account.account_id, RECENT)
    context: dict[str, Any] = {"account": account, "recent": recent, "agent": await _agent(request, account)}
    if conversation:
        record, events = await service.conversation_events_after(account.store, account.account_id, conversation)
        context |= {
            "conversation": conversation_view(record, consumer.lp_consumer_id),
            "events": [event_line(event) for event in events],
            "deliveries": await _deliveries(account, record.id, events),
            "last_event": events[-1].id if events else 0,
        }
    return render(request, "sandbox.html", **context)


@router.get(CONVERSATION + "/updates")
async def conversation_updates(
    request: Request,
    account: AccountDep,
    conversation_id: str,
    after: str = "0",
) -> Response:
    """What the page polls: the conversation's state, its events after event ``after``, and all its deliveries."""
    if not after.isdecimal() or len(after) > 18:
        raise Invalid("invalid-parameter", "after is the id of the last event seen: a whole number")
    record, events = await service.conversation_events_after(account.store, account.account_id, conversation_id)
    newer = [event for event in events if event.id > int(after)]
    return JSONResponse(
        {
            "conversation": conversation_view(record, console_consumer(account).lp_consumer_id),
            "events": [event_line(event) for event in newer],
            "last_event": events[-1].id if events else 0,
            "deliveries": await _deliveries(account, record.id, events),
            "agent": await _agent(request, account),
        }
    )


@router.post(SANDBOX + "/conversations")
async def open_conversation(request: Request, account: AccountDep, form: FormDep) -> Response:
    """Open a conversation as the console's consumer (what ``cm.ConsumerRequestConversation`` does)."""
    opening = SendRequest(kind="req", id="console", type="cm.ConsumerRequestConversation", body={"skillId": "-1"})
    with _as_domain_error():
        [answer] = await service.open_conversations(
            account.store, account.account_id, console_consumer(account), [opening]
        )
    return redirect(_page_url(account.account_id, answer["body"]["conversationId"]))


@router.post(CONVERSATION + "/messages")
async def send_as_consumer(request: Request, account: AccountDep, form: FormDep, conversation_id: str) -> Response:
    """The console's consumer sends a text message; the account's scripted agent hears of it as of any other."""
    try:
        record = await _console_conversation(account, conversation_id)
        event = ContentEvent(type="ContentEvent", message=_message(form)).model_dump()
        publish = SendRequest(
            kind="req",
            id="console",
            type="ms.PublishEvent",
            body={"dialogId": record.id, "event": event},
        )
        with _as_domain_error():
            answer, appended = await service.send(account.store, account.account_id, console_consumer(account), publish)
    except DomainError as error:
        return _refusal(request, error)
    if appended is not None:
        app_state(request).agents.heard(appended)
    return _done(request, account.account_id, record.id, sequence=answer["body"].get("sequence"))


async def _console_conversation(account: ConsoleAccount, conversation_id: str) -> ConversationRecord:
    record = await service.get_conversation(account.store, account.account_id, conversation_id)
    if record.consumer_id != console_consumer(account).lp_consumer_id:
        raise Conflict("not-your-conversation", "another consumer opened this conversation: answer it as the agent")
    return record


@router.post(CONVERSATION + "/agent/accept")
async def accept_as_agent(request: Request, account: AccountDep, form: FormDep, conversation_id: str) -> Response:
    try:
        record = await service.get_conversation(account.store, account.account_id, conversation_id)
        with _as_domain_error():
            await service.accept(account.store, account.account_id, record.id, DEFAULT_AGENT)
    except DomainError as error:
        return _refusal(request, error)
    return _done(request, account.account_id, record.id)


@router.post(CONVERSATION + "/agent/messages")
async def send_as_agent(request: Request, account: AccountDep, form: FormDep, conversation_id: str) -> Response:
    try:
        record = await service.get_conversation(account.store, account.account_id, conversation_id)
        event = ContentEvent(type="ContentEvent", message=_message(form))
        with _as_domain_error():
            sequence = await service.agent_event(account.store, account.account_id, record.id, event)
    except DomainError as error:
        return _refusal(request, error)
    return _done(request, account.account_id, record.id, sequence=sequence)


@router.post(CONVERSATION + "/close")
async def close_as_agent(request: Request, account: AccountDep, form: FormDep, conversation_id: str) -> Response:
    try:
        record = await service.get_conversation(account.store, account.account_id, conversation_id)
        with _as_domain_error():
            await service.close(account.store, account.account_id, record.id, "AGENT")
    except DomainError as error:
        return _refusal(request, error)
    return _done(request, account.account_id, record.id)


@router.post(SANDBOX + "/agent")
async def choose_agent(request: Request, account: AccountDep, form: FormDep) -> Response:
    """The account's scripted agent: echo, off, or (``server``) the server's default again."""
    choice = form.get("mode", "")
    if choice == "server":
        await modes.clear_account_mode(account.store, account.account_id)
    elif choice in MODES:
        await modes.set_account_mode(account.store, account.account_id, "echo" if choice == "echo" else "off")
    else:
        raise Invalid("invalid-mode", "choose echo, off or the server's default")
    back = form.get("conversation", "")[:36] or None
    if _wants_json(request):
        return JSONResponse({"ok": True, "agent": await _agent(request, account)})
    return redirect(_page_url(account.account_id, back))
