"""Keys in the console: an account's admin keys, and (for the operator) the token signing keys.

A new admin key is shown once, in the answer to the form that made it (never in a URL, never again). Revoking the
key a session signed in with ends that session: the console signs the browser out at once rather than letting
the next click find out.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from appinstall.accounts import service as accounts
from appinstall.console import sessions
from appinstall.console.deps import (
    SECURE_SESSION_COOKIE,
    SESSION_COOKIE,
    AccountDep,
    FormDep,
    SessionDep,
    session_token,
)
from appinstall.console.pages import PREFIX, ConsoleRoute, redirect, render
from appinstall.errors import Forbidden, Invalid, NotFound
from appinstall.http.deps import app_state
from appinstall.tokens.key_views import MAX_ACTIVATE_IN_SECONDS, key_listing
from appinstall.tokens.keys import ALGORITHMS, SigningKeyNotFound, revoke, rotate
from appinstall.tokens.service import TokenService

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

KEYS = PREFIX + "/accounts/{account_id}/keys"
SIGNING_KEYS = PREFIX + "/signing-keys"
MAX_KEY_NAME: Final = 100


def _keys_url(account_id: str) -> str:
    return KEYS.format(account_id=quote(account_id, safe=""))


async def _keys_page(request: Request, account: AccountDep, status: int = 200, **context: object) -> Response:
    keys = await accounts.list_keys(account.store, account.account_id)
    return render(request, "keys.html", status, account=account, keys=keys, own_key=account.principal.key_id, **context)


@router.get(KEYS)
async def keys_page(request: Request, account: AccountDep) -> Response:
    return await _keys_page(request, account)


@router.post(KEYS)
async def create_key(request: Request, account: AccountDep, form: FormDep) -> Response:
    """Make a key and show it in this answer only: a reload shows the list without it (``no-store``)."""
    name = form.get("name", "").strip() or None
    if name is not None and len(name) > MAX_KEY_NAME:
        raise Invalid("invalid-name", f"a key's name has at most {MAX_KEY_NAME} characters")
    created = await accounts.create_key(account.store, account.account_id, name)
    return await _keys_page(request, account, 201, created=created)


@router.post(KEYS + "/{key_id}/revoke")
async def revoke_key(request: Request, account: AccountDep, form: FormDep, key_id: str) -> Response:
    """Revoke a key; if this session signed in with it, the session ends with it and the browser is signed out."""
    if len(key_id) > 64:
        raise NotFound("key-not-found", "there is no such active key in this account")
    await accounts.revoke_key(account.store, account.account_id, key_id)
    if key_id != account.principal.key_id:
        return redirect(_keys_url(account.account_id))
    token = session_token(request)
    if token is not None:
        await sessions.sign_out(account.store, token)
    answer = redirect(f"{PREFIX}/sign-in")
    for name in (SESSION_COOKIE, SECURE_SESSION_COOKIE):
        answer.delete_cookie(name, path="/", secure=name == SECURE_SESSION_COOKIE, httponly=True, samesite="strict")
    return answer


# --- Signing keys (the operator's) --------------------------------------------------------------------------------


def _operator_tokens(request: Request, session: sessions.ConsoleSession) -> TokenService:
    if not session.principal.is_operator:
        raise Forbidden("forbidden", "only the operator may see and change the signing keys")
    return app_state(request).tokens


async def _signing_keys_page(request: Request, tokens: TokenService, status: int = 200, **context: object) -> Response:
    listing = key_listing(await tokens.reload_keys(), tokens.store.clock())
    return render(
        request,
        "signing_keys.html",
        status,
        keys=listing["keys"],
        refresh_seconds=listing["jwks_refresh_seconds"],
        algorithms=ALGORITHMS,
        default_algorithm=tokens.settings.signing_algorithm,
        max_activate_in=MAX_ACTIVATE_IN_SECONDS,
        **context,
    )


@router.get(SIGNING_KEYS)
async def signing_keys_page(request: Request, session: SessionDep, added: str | None = None) -> Response:
    return await _signing_keys_page(request, _operator_tokens(request, session), added=(added or "")[:64] or None)


@router.post(SIGNING_KEYS)
async def rotate_signing_key(request: Request, session: SessionDep, form: FormDep) -> Response:
    """Add a key that signs after ``activate_in`` seconds; the others retire once their tokens have expired."""
    tokens = _operator_tokens(request, session)
    activate_in = form.get("activate_in", "3600").strip() or "3600"
    if not activate_in.isdecimal() or int(activate_in) > MAX_ACTIVATE_IN_SECONDS:
        raise Invalid("invalid-activate-in", f"activate in: whole seconds, 0 to {MAX_ACTIVATE_IN_SECONDS}")
    algorithm = form.get("algorithm") or tokens.settings.signing_algorithm
    if algorithm not in ALGORITHMS:
        raise Invalid("invalid-algorithm", f"the algorithm is one of {', '.join(ALGORITHMS)}")
    added = await rotate(tokens.store, algorithm, int(activate_in) * 1000, tokens.ttl_seconds * 1000)
    await tokens.reload_keys()
    return redirect(f"{SIGNING_KEYS}?added={quote(added.kid, safe='')}")


@router.post(SIGNING_KEYS + "/{kid}/revoke")
async def revoke_signing_key(request: Request, session: SessionDep, form: FormDep, kid: str) -> Response:
    """Remove a key at once: what it signed stops verifying (a new key takes over if it was the signing one)."""
    tokens = _operator_tokens(request, session)
    try:
        await revoke(tokens.store, kid[:200], tokens.settings.signing_algorithm)
    except SigningKeyNotFound:
        raise NotFound("signing-key-not-found", "no signing key has that kid (it may be revoked already)") from None
    await tokens.reload_keys()
    return redirect(SIGNING_KEYS)
