"""Token routes: the platform's Sentinel and IDP paths, and standard OAuth 2.0 (RFC 6749, 8414, 7517)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appinstall.http.client_address import client_address
from appinstall.http.deps import SettingsDep, TokensDep, app_state
from appinstall.http.input_checks import text_problem
from appinstall.http.plain_route import PlainRoute
from appinstall.http.public_url import public_base
from appinstall.manifest import rules
from appinstall.tokens import errors
from appinstall.tokens.errors import NO_STORE, OAuthError, PlatformError
from appinstall.tokens.service import AppIdentity, TokenService, granted_scope

router = APIRouter(tags=["tokens"])

FORM = "application/x-www-form-urlencoded"
_FORM_BODY: dict[str, Any] = {
    "requestBody": {
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "scope": {"type": "string"},
                    },
                }
            }
        }
    }
}


def _parameters(pairs: list[tuple[str, str]], into: dict[str, str]) -> None:
    for name, value in pairs:
        if name in into and into[name] != value:
            raise OAuthError("invalid_request", f"the parameter {name!r} is given more than once")
        into[name] = value


async def _form(request: Request, *, with_query: bool) -> dict[str, str]:
    """Token request parameters from the form body (and, for the platform's path, its query string)."""
    parameters: dict[str, str] = {}
    if with_query:
        _parameters(list(request.query_params.multi_items()), parameters)
    body = await request.body()
    if body:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type != FORM:
            raise OAuthError("invalid_request", f"send the parameters as {FORM}")
        try:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise OAuthError("invalid_request", "the form is not UTF-8") from None
        _parameters(pairs, parameters)
    return parameters


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 §2.3.1): both halves are form-encoded before base64."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_request", "client authentication uses the Basic scheme or the form body")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise errors.invalid_client("the Basic credentials are not valid base64 of UTF-8", basic=True) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise errors.invalid_client("the Basic credentials need client_id:client_secret", basic=True)
    credentials = unquote_plus(client_id), unquote_plus(secret)
    # Inside base64, out of InputGuard's sight: a NUL here reached PostgreSQL's lookup of the client (500).
    if any(text_problem(part) is not None for part in credentials):
        raise OAuthError(
            "invalid_request",
            "the Basic credentials hold a NUL or a lone surrogate; send the client_id and client_secret as issued",
        )
    return credentials


def _token_response(token: str, ttl: int, scope: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
    if scope is not None:
        body["scope"] = scope
    return JSONResponse(body, headers=NO_STORE)


async def _grant(tokens: TokenService, request: Request, account_id: str | None, *, with_query: bool) -> JSONResponse:
    parameters = await _form(request, with_query=with_query)
    basic = _basic_credentials(request)
    grant_type = parameters.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != rules.CLIENT_CREDENTIALS:
        raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
    if basic is not None and "client_secret" in parameters:
        raise OAuthError("invalid_request", "authenticate with Basic or with the form, not both")
    client_id, secret = basic if basic is not None else (parameters.get("client_id"), parameters.get("client_secret"))
    address = client_address(
        request.client.host if request.client else None, request.headers.get("x-forwarded-for"), tokens.trusted_proxies
    )
    installation = await tokens.authenticate_client(
        client_id, secret, account_id=account_id, basic=basic is not None, address=address
    )
    scope = granted_scope(str(installation.manifest.get("scope", rules.REQUIRED_SCOPE)), parameters.get("scope"))
    token = await tokens.issue_app_jwt(installation, scope)
    return _token_response(token, tokens.ttl_seconds, scope if account_id is None else None)


async def sentinel_token(account_id: str, request: Request) -> JSONResponse:
    """``grant_type``, ``client_id`` and ``client_secret`` in the form body or the query string, as the
    platform's own clients send them. 200 ``{"access_token", "token_type": "Bearer", "expires_in"}``."""
    return await _grant(app_state(request).tokens, request, account_id, with_query=True)


async def oauth_token(request: Request) -> JSONResponse:
    """client_credentials with ``client_secret_basic`` or ``client_secret_post``; ``scope`` optional."""
    return await _grant(app_state(request).tokens, request, None, with_query=False)


# The two grants are the hottest routes: plain routes, served without FastAPI's parameter machinery.
router.add_api_route(
    "/sentinel/api/account/{account_id}/app/token",
    sentinel_token,
    methods=["POST"],
    openapi_extra=_FORM_BODY,
    summary="AppJWT by client credentials (the platform's Sentinel path)",
    route_class_override=PlainRoute,
)
router.add_api_route(
    "/oauth2/token",
    oauth_token,
    methods=["POST"],
    openapi_extra=_FORM_BODY,
    summary="OAuth 2.0 token endpoint (RFC 6749 §4.4)",
    route_class_override=PlainRoute,
)


@router.get("/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)")
async def metadata(request: Request, settings: SettingsDep) -> JSONResponse:
    """Built on ``APPINSTALL_PUBLIC_URL``, or on the request's URL for an allowed ``Host`` (400 otherwise)."""
    base = public_base(request, settings)
    body = {
        "issuer": base.url,
        "token_endpoint": f"{base.url}/oauth2/token",
        "jwks_uri": f"{base.url}/.well-known/jwks.json",
        "grant_types_supported": [rules.CLIENT_CREDENTIALS],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": [rules.REQUIRED_SCOPE],
        "response_types_supported": [],
    }
    return JSONResponse(body, headers=base.cache_headers)


@router.get("/.well-known/jwks.json", summary="The keys that verify issued tokens (RFC 7517)")
async def jwks(tokens: TokensDep) -> JSONResponse:
    keys = await tokens.keys()
    return JSONResponse(keys.jwks(tokens.store.clock()), headers={"Cache-Control": "public, max-age=300"})


# --- The platform's IDP: ConsumerJWS ------------------------------------------------------------------------


class ConsumerRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")

    ext_consumer_id: str = Field(min_length=1, max_length=256)


def bearer_or_bare(header: str | None) -> str | None:
    """The platform's clients send the AppJWT bare in ``Authorization``; others send ``Bearer <token>``."""
    if header is None or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else header.strip()


async def app_identity(account_id: str, request: Request, tokens: TokensDep) -> AppIdentity:
    """Dependency for the platform's APIs: the verified AppJWT of ``Authorization``, or the platform's 401."""
    token = bearer_or_bare(request.headers.get("authorization"))
    if token is None:
        raise errors.unauthorized(errors.APP_JWT_MISSING, "the AppJWT is missing from Authorization")
    return await tokens.verify_app_jwt(token, account_id)


@router.post(
    "/api/account/{account_id}/consumer",
    status_code=201,
    summary="ConsumerJWS for an external consumer id (the platform's IDP path)",
)
async def consumer_token(
    account_id: str, request: Request, tokens: TokensDep, _: Annotated[AppIdentity, Depends(app_identity)]
) -> JSONResponse:
    """``Authorization: <AppJWT>`` and ``{"ext_consumer_id": "…"}`` → 201 ``{"token": "<ConsumerJWS>"}``."""
    try:
        body = ConsumerRequest.model_validate_json(await request.body())
    except ValidationError:
        raise PlatformError(
            400, errors.BAD_REQUEST_BODY, "Bad Request", 'send {"ext_consumer_id": "<1 to 256 characters>"}'
        ) from None
    return JSONResponse({"token": await tokens.issue_consumer_jws(account_id, body.ext_consumer_id)}, 201)
