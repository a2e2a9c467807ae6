"""What console views take: the signed-in session, the account of the path, and a form that passed CSRF checks.

Tenant isolation is the API's own: ``ConsoleAccount`` asks the same ``Authenticator.require_account`` as every
API route, so an admin key's session sees its account, and any other account id in a URL is a 404 page, exactly as
a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request

from appinstall.accounts.models import Principal
from appinstall.console import cookies, security, sessions
from appinstall.console.forms import Form, read_form
from appinstall.console.pages import SignInRequired
from appinstall.console.sessions import ConsoleSession
from appinstall.errors import Forbidden
from appinstall.http.deps import app_state
from appinstall.store import Store

SESSION_COOKIE = "appinstall-session"
SECURE_SESSION_COOKIE = "__Host-appinstall-session"  # the __Host- prefix: Secure, Path=/, no Domain, or refused


def is_https(request: Request) -> bool:
    public_url = app_state(request).settings.public_url
    return request.url.scheme == "https" or (public_url is not None and public_url.startswith("https:"))


def cookie_name(request: Request) -> str:
    return SECURE_SESSION_COOKIE if is_https(request) else SESSION_COOKIE


def session_token(request: Request) -> str | None:
    """The session token of the request's cookie, if the cookie is one this deployment signed."""
    value = request.cookies.get(cookie_name(request))
    if not value:
        return None
    return cookies.unsign(cookies.signing_key(app_state(request).store.keyring), value)


async def current_session(request: Request) -> ConsoleSession | None:
    token = session_token(request)
    if token is None:
        return None
    state = app_state(request)
    session = await sessions.find(state.store, state.authenticator, token)
    request.state.console_session = session  # pages show who is signed in
    return session


async def signed_in(request: Request) -> ConsoleSession:
    session = await current_session(request)
    if session is None:
        raise SignInRequired()
    return session


SessionDep = Annotated[ConsoleSession, Depends(signed_in)]


@dataclass(frozen=True)
class ConsoleAccount:
    """The path's account, which the signed-in principal may see, and the store to read and act in."""

    account_id: str
    principal: Principal
    store: Store
    session: ConsoleSession

    @property
    def actor(self) -> str:
        return f"console:{self.principal.actor}"


async def console_account(account_id: str, request: Request, session: SessionDep) -> ConsoleAccount:
    state = app_state(request)
    await state.authenticator.require_account(session.principal, account_id)
    return ConsoleAccount(account_id, session.principal, state.store, session)


AccountDep = Annotated[ConsoleAccount, Depends(console_account)]


def own_origin(request: Request) -> str:
    """This server's origin as the browser sees it: the public URL's when one is set, else the request's own."""
    public_url = app_state(request).settings.public_url
    if public_url:
        parts = urlsplit(public_url)
        return f"{parts.scheme}://{parts.netloc}"
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


def check_request_origin(request: Request, csrf_expected: str, csrf_given: str | None) -> None:
    """``Forbidden`` unless the request carries the expected CSRF token and comes from this origin."""
    if not security.from_this_origin(
        request.headers.get("origin"), request.headers.get("sec-fetch-site"), own_origin(request)
    ):
        raise Forbidden("cross-origin", "this form was sent from another site; open the console and try again")
    if not security.same_token(csrf_expected, csrf_given):
        raise Forbidden("csrf", "this form has expired or was not sent by the console; reload the page and try again")


async def checked_form(request: Request, session: SessionDep) -> Form:
    """The posted form, once its CSRF token (field or header) and origin are checked against the session."""
    form = await read_form(request)
    given = form.get(security.CSRF_FIELD) or request.headers.get(security.CSRF_HEADER)
    check_request_origin(request, session.csrf_token, given)
    return form


FormDep = Annotated[Form, Depends(checked_form)]
