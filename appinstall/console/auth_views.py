"""Signing in and out of the console, and where ``/`` and ``/console`` lead."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from appinstall.accounts import service as accounts
from appinstall.accounts.models import ACCOUNT_ID_PATTERN
from appinstall.console import cookies, links, security, sessions
from appinstall.console.deps import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    FormDep,
    SessionDep,
    check_request_origin,
    cookie_name,
    current_session,
    is_https,
    session_token,
)
from appinstall.console.forms import Form, read_form
from appinstall.console.pages import PREFIX, ConsoleRoute, redirect, render
from appinstall.errors import Forbidden, Invalid, Unauthorized
from appinstall.http.deps import app_state

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

_SIGN_IN_COOKIE = "appinstall-sign-in"
"""Before a session exists, the sign-in form's CSRF token lives in this short-lived cookie (double submit)."""


def _home(session: sessions.ConsoleSession) -> str:
    account_id = session.principal.account_id
    return f"{PREFIX}/accounts" if account_id is None else f"{PREFIX}/accounts/{account_id}/installations"


def _safe_next(target: str | None) -> str | None:
    """Only a path of this console: never another site (``//evil``, ``/\\evil``) after signing in."""
    if target and target.startswith(PREFIX + "/") and not target.startswith(("//", "/\\")) and "\\" not in target:
        return target
    return None


@router.get("/")
async def root() -> Response:
    return redirect(PREFIX)


@router.get(PREFIX)
async def console_home(request: Request) -> Response:
    session = await current_session(request)
    return redirect(f"{PREFIX}/sign-in" if session is None else _home(session))


@router.get(PREFIX + "/sign-in")
async def sign_in_page(
    request: Request, next_url: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    session = await current_session(request)
    if session is not None:
        return redirect(_safe_next(next_url) or _home(session))
    return _sign_in_form(request, next_url)


def _sign_in_form(
    request: Request,
    next_url: str | None,
    error: str | None = None,
    status: int = 200,
    template: str = "sign_in.html",
    link: str | None = None,
) -> Response:
    token = cookies.new_token()
    key = cookies.signing_key(app_state(request).store.keyring)
    page = render(request, template, status, csrf_token=token, next=_safe_next(next_url), error=error, link=link)
    page.set_cookie(
        _SIGN_IN_COOKIE,
        cookies.sign(key, token),
        max_age=3600,
        path=PREFIX + "/sign-in",
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )
    return page


def _check_sign_in_form(request: Request, form: Form) -> None:
    """``Forbidden`` unless the form carries the token its short-lived cookie pairs it with, from this origin."""
    key = cookies.signing_key(app_state(request).store.keyring)
    expected = cookies.unsign(key, request.cookies.get(_SIGN_IN_COOKIE, "")) or ""
    if not expected:
        raise Forbidden("csrf", "the sign-in form has expired; open it again")
    check_request_origin(request, expected, form.get(security.CSRF_FIELD))


@router.post(PREFIX + "/sign-in")
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    state = app_state(request)
    try:
        _check_sign_in_form(request, form)
        lifetime = state.settings.console_session_minutes * 60_000
        token, session = await sessions.sign_in(state.store, state.authenticator, form.get("key", ""), lifetime)
    except (Unauthorized, Forbidden) as error:
        return _sign_in_form(request, form.get("next"), error.detail, 401 if isinstance(error, Unauthorized) else 403)
    return _signed_in(request, token, session, form.get("next"))


@router.get(PREFIX + "/sign-in/link")
async def sign_in_link_page(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """A one-time link's page: a button, so only a person's click spends the link (see ``console.links``)."""
    return _sign_in_form(request, None, template="sign_in_link.html", link=token)


@router.post(PREFIX + "/sign-in/link")
async def sign_in_with_link(request: Request) -> Response:
    form = await read_form(request)
    state = app_state(request)
    try:
        _check_sign_in_form(request, form)
        principal = await links.redeem(state.store, state.authenticator, form.get("link", ""))
    except (Unauthorized, Forbidden) as error:
        return _sign_in_form(request, None, error.detail, 401 if isinstance(error, Unauthorized) else 403)
    lifetime = state.settings.console_session_minutes * 60_000
    token, session = await sessions.start(state.store, state.authenticator, principal, lifetime)
    return _signed_in(request, token, session, None)


def _signed_in(request: Request, token: str, session: sessions.ConsoleSession, next_url: str | None) -> Response:
    """Home (or where the person was going), with the new session's cookie."""
    state = app_state(request)
    key = cookies.signing_key(state.store.keyring)
    answer = redirect(_safe_next(next_url) or _home(session))
    answer.set_cookie(
        cookie_name(request),
        cookies.sign(key, token),
        max_age=state.settings.console_session_minutes * 60,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="strict",
    )
    answer.delete_cookie(_SIGN_IN_COOKIE, path=PREFIX + "/sign-in")
    return answer


@router.post(PREFIX + "/sign-out")
async def sign_out(request: Request, session: SessionDep) -> Response:
    form = await read_form(request)
    check_request_origin(request, session.csrf_token, form.get(security.CSRF_FIELD))
    token = session_token(request)
    if token is not None:
        await sessions.sign_out(app_state(request).store, token)
    answer = redirect(f"{PREFIX}/sign-in")
    for name in (SESSION_COOKIE, SECURE_SESSION_COOKIE):
        answer.delete_cookie(name, path="/", secure=name == SECURE_SESSION_COOKIE, httponly=True, samesite="strict")
    return answer


@router.get(PREFIX + "/accounts")
async def accounts_page(request: Request, session: SessionDep) -> Response:
    """The operator's way in: every account. An admin key has one account and goes straight to it."""
    if not session.principal.is_operator:
        return redirect(_home(session))
    return render(request, "accounts.html", accounts=await accounts.list_accounts(app_state(request).store))


@router.post(PREFIX + "/accounts")
async def create_account(request: Request, session: SessionDep, form: FormDep) -> Response:
    """The operator makes an account (its admin keys are then made on the account's Keys page)."""
    if not session.principal.is_operator:
        raise Forbidden("forbidden", "only the operator may create accounts")
    account_id = form.get("id", "").strip()
    if not re.fullmatch(ACCOUNT_ID_PATTERN, account_id):
        raise Invalid(
            "invalid-account-id", "an account id is 1-64 letters, digits, '-' or '_', starting with one of the first"
        )
    await accounts.create_account(app_state(request).store, account_id)
    return redirect(f"{PREFIX}/accounts/{quote(account_id, safe='')}/keys")


@router.get(PREFIX + "/accounts/{account_id}")
async def account_page(account_id: str, session: SessionDep) -> Response:
    return redirect(f"{PREFIX}/accounts/{quote(account_id, safe='')}/installations")
