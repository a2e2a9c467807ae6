"""The published OpenAPI document: FastAPI's, corrected to say what the server really answers and asks for.

FastAPI documents a 422 on every route with parameters, which this server never sends (its validation errors are
400 problem details), and knows nothing of the errors raised by middleware (``InputGuard``'s 400, the request
limits' 413/415), by the exception handlers (503 when the store is out of reach), by the views (the RFC 6749 shape
of the token endpoints, the platform's envelope on its Send API), nor of the credentials each route takes. Clients
generated from the document, and schemathesis' contract checks, rely on those. So the generated document is walked
(FastAPI includes routers lazily: its internals are not a stable place to look) and ``RULES`` below, one readable
table, adds each route's error responses and security; the parameters and bodies that routes check by hand get a
schema as strict as the code that checks them (``openapi_inputs``). ``tests/registry/test_openapi_fuzz.py`` holds
the live server to the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Final, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from appinstall.http.openapi_inputs import hand_read_bodies, strict_parameter
from appinstall.http.problems import PROBLEM_JSON
from appinstall.registry.views import manifest_component

Shape = Literal["problem", "oauth", "platform"]
"""The three error dialects: RFC 9457 problem details; RFC 6749 §5.2 (token endpoints); the platform's envelope."""


@dataclass(frozen=True)
class Error:
    shape: Shape
    kinds: str
    """The problem types (``type`` suffixes), OAuth ``error`` codes or platform ``errorCode``s, for the reader."""


def problem(kinds: str) -> Error:
    return Error("problem", kinds)


def oauth(kinds: str) -> Error:
    return Error("oauth", kinds)


def platform(kinds: str) -> Error:
    return Error("platform", kinds)


@dataclass(frozen=True)
class Rule:
    """Every operation whose method is in ``methods`` (``*``: any) and whose path template fully matches ``path``
    answers ``errors`` too; the last matching rule that names ``security`` sets the operation's security."""

    methods: str
    path: str
    security: Security | None
    errors: dict[int, Error]


Security = tuple[dict[str, list[str]], ...]
"""Alternatives, each a set of schemes used together (OpenAPI's security requirement objects)."""

PUBLIC: Final[Security] = ()
ADMIN: Final[Security] = ({"adminKey": []},)
CLIENT: Final[Security] = ({"clientSecretBasic": []}, {})
"""HTTP Basic, or ``client_secret_post``: OpenAPI has no scheme for credentials in form fields (``{}``)."""
APP: Final[Security] = ({"appJwt": []},)
CONSUMER: Final[Security] = ({"appJwt": [], "consumerJws": []},)

ACCOUNT = r"/api/account/\{account_id\}"
PLATFORM = ACCOUNT + r"/(consumer|messaging/consumer/conversation(/send)?|service/baseURI\.json)"
INSTALLATION = ACCOUNT + r"/configuration/app-install/installations/\{installation_id\}"
SEND_API = ACCOUNT + r"/messaging/consumer/conversation(/send)?"
GRANT_PATHS = r"/oauth2/token|/sentinel/api/account/\{account_id\}/app/token"
WITH_BODY = "POST PUT PATCH"

RULES: Final[tuple[Rule, ...]] = (
    # methods        path (a regular expression on the path template)  security  errors answered there too
    Rule("*",         r".*",                                   None,     {400: problem("invalid-input"),
                                                                          503: problem("store-unavailable")}),
    Rule(WITH_BODY,   r".*",                                   None,     {413: problem("payload-too-large")}),
    Rule(WITH_BODY,   rf"(?!{GRANT_PATHS}).*",                 None,     {415: problem("unsupported-media-type")}),
    # The API of admin keys and the operator token
    Rule("*",         rf"(?!{PLATFORM}$)/api/.*",              ADMIN,    {401: problem("unauthorized")}),
    Rule("*",         rf"(?!{PLATFORM}$)/api/accounts?/\{{account_id\}}.*",
                                                               ADMIN,    {404: problem("account-not-found")}),
    Rule("*",         r"/api/accounts|/api/installations|/api/signing-keys.*",
                                                               ADMIN,    {403: problem("forbidden")}),
    Rule("POST",      r"/api/accounts",                        ADMIN,    {400: problem("invalid-request"),
                                                                          409: problem("account-exists")}),
    Rule("*",         r"/api/accounts/.*",                     ADMIN,    {400: problem("invalid-request"),
                                                                          404: problem("key-not-found")}),
    Rule("*",         r"/api/signing-keys.*",                  ADMIN,    {400: problem("invalid-request"),
                                                                          404: problem("signing-key-not-found")}),
    Rule("GET",       r".*/installations|/api/installations",  ADMIN,    {400: problem("invalid-request "
                                                                          "invalid-cursor unknown-event-type")}),
    Rule(WITH_BODY,   r".*/installations(/\{installation_id\})?",
                                                               ADMIN,    {400: problem("invalid-manifest "
                                                                          "read-only-field"),
                                                                          409: problem("client-name-taken")}),
    Rule("PUT PATCH DELETE", INSTALLATION,                     ADMIN,    {412: problem("precondition-failed")}),
    Rule("PUT PATCH", INSTALLATION,                            ADMIN,    {428: problem("precondition-required")}),
    Rule("*",         INSTALLATION + r".*",                    ADMIN,    {404: problem("installation-not-found")}),
    Rule("*",         INSTALLATION + r"/deliveries.*",         ADMIN,    {400: problem("invalid-parameter "
                                                                          "invalid-cursor unknown-event-type"),
                                                                          404: problem("delivery-not-found")}),
    Rule("POST",      INSTALLATION + r"/deliveries/.*/retry",  ADMIN,    {409: problem("delivery-unfinished")}),
    Rule("*",         INSTALLATION + r"/webhooks.*",           ADMIN,    {400: problem("unknown-event-type"),
                                                                          404: problem("webhook-not-found")}),
    Rule("POST",      ACCOUNT + r"/notifications",             ADMIN,    {400: problem("invalid-notification"),
                                                                          404: problem("installation-not-found")}),
    Rule("POST",      ACCOUNT + r"/notifications:batch",       ADMIN,    {400: problem("invalid-notification "
                                                                          "invalid-batch"),
                                                                          404: problem("installation-not-found")}),
    Rule("*",         ACCOUNT + r"/(sandbox|settings)/.*",     ADMIN,    {400: problem("invalid-request")}),
    Rule("POST",      ACCOUNT + r"/sandbox/conversations/.*",  ADMIN,    {400: problem("conversation-closed"),
                                                                          404: problem("conversation-not-found"),
                                                                          409: problem("not-accepted")}),
    # The platform's paths: OAuth 2.0 errors on the token endpoints, the platform's envelope on its APIs
    Rule("POST",      GRANT_PATHS,                             CLIENT,   {400: oauth("invalid_request "
                                                                          "unsupported_grant_type invalid_scope"),
                                                                          401: oauth("invalid_client"),
                                                                          429: oauth("temporarily_unavailable")}),
    Rule("POST",      ACCOUNT + r"/consumer",                  APP,      {400: platform("40001"),
                                                                          401: platform("40102 40105")}),
    Rule("POST",      SEND_API,                                CONSUMER, {400: platform("40001"),
                                                                          401: platform("40102 40103 40104 40105"),
                                                                          404: platform("40401"),
                                                                          429: platform("42901")}),
    # Public routes
    Rule("GET",       ACCOUNT + r"/service/baseURI\.json",     PUBLIC,   {400: problem("invalid-parameter "
                                                                          "unknown-host")}),
    Rule("GET",       r"/\.well-known/oauth-authorization-server",
                                                               PUBLIC,   {400: problem("unknown-host")}),
    Rule("GET",       r"/\.well-known/jwks\.json|/healthz|/metrics",
                                                               PUBLIC,   {}),
    Rule("GET",       r"/readyz",                              PUBLIC,   {503: problem("not-ready")}),
)  # fmt: skip

SECURITY_SCHEMES: Final[dict[str, Any]] = {
    "adminKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An account's admin key (`aik_…`) or the operator token: `Authorization: Bearer <key>`.",
    },
    "clientSecretBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "The installation's `client_id` and `client_secret` (RFC 6749 §2.3.1, `client_secret_basic`). "
        "The token endpoints take them as the form fields `client_id` and `client_secret` instead "
        "(`client_secret_post`; the Sentinel path also in the query string): OpenAPI has no scheme for form "
        "fields, so those operations list no credentials (`{}`) as the other choice.",
    },
    "appJwt": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "The AppJWT from the token endpoints, bare as the platform's clients send it, or "
        "`Bearer <AppJWT>`.",
    },
    "consumerJws": {
        "type": "apiKey",
        "in": "header",
        "name": "X-LP-ON-BEHALF",
        "description": "The ConsumerJWS from `POST /api/account/{account_id}/consumer` (`LP-On-Behalf` is read too).",
    },
}

ERROR_SCHEMAS: Final[dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details; `type` ends with the problem's kind (docs/http-api.md#errors).",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemItem"}},
        },
    },
    "ProblemItem": {
        "type": "object",
        "required": ["pointer", "code", "message"],
        "properties": {
            "pointer": {"type": "string", "description": "RFC 6901 JSON pointer to the value concerned."},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "hint": {"type": ["string", "null"]},
        },
    },
    "OAuthError": {
        "type": "object",
        "description": "RFC 6749 §5.2.",
        "required": ["error", "error_description"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
        "additionalProperties": False,
    },
    "PlatformError": {
        "type": "object",
        "description": "The platform's error envelope; `body.errorCode` is what connectors branch on.",
        "required": ["kind", "code", "body", "type"],
        "properties": {
            "kind": {"const": "resp"},
            "code": {"type": "integer"},
            "body": {
                "type": "object",
                "required": ["title", "details", "errorCode"],
                "properties": {
                    "title": {"type": "string"},
                    "details": {"type": "string"},
                    "errorCode": {"type": "integer"},
                },
            },
            "type": {"const": ".ReqBody$ErrorResp"},
        },
        "additionalProperties": False,
    },
}

_MEDIA: Final[dict[Shape, tuple[str, str]]] = {
    "problem": (PROBLEM_JSON, "Problem"),
    "oauth": ("application/json", "OAuthError"),
    "platform": ("application/json", "PlatformError"),
}


# --- Applying the table -------------------------------------------------------------------------------------------


def matching_rules(method: str, path: str) -> list[Rule]:
    return [
        rule
        for rule in RULES
        if (rule.methods == "*" or method.upper() in rule.methods.split()) and re.fullmatch(rule.path, path)
    ]


def _responses(rules: list[Rule]) -> dict[str, Any]:
    kinds: dict[int, dict[Shape, list[str]]] = {}
    for rule in rules:
        for status, error in rule.errors.items():
            kinds.setdefault(status, {}).setdefault(error.shape, []).extend(error.kinds.split())
    responses: dict[str, Any] = {}
    for status, by_shape in sorted(kinds.items()):
        content = {}
        for shape in by_shape:
            media_type, schema = _MEDIA[shape]
            content[media_type] = {"schema": {"$ref": f"#/components/schemas/{schema}"}}
        described = "; ".join(f"{shape}: {', '.join(dict.fromkeys(names))}" for shape, names in by_shape.items())
        responses[str(status)] = {"description": f"{HTTPStatus(status).phrase} ({described})", "content": content}
    return responses


def correct(document: dict[str, Any]) -> dict[str, Any]:
    """Apply ``RULES`` to a generated document (in place): error responses, security, hand-read bodies, no 422."""
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(ERROR_SCHEMAS)
    components["securitySchemes"] = SECURITY_SCHEMES
    bodies = hand_read_bodies(schemas)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            rules = matching_rules(method, path)
            operation["responses"].pop("422", None)
            for parameter in operation.get("parameters", []):
                strict_parameter(method, parameter)
            for status, response in _responses(rules).items():
                operation["responses"].setdefault(status, response)
            security = [rule.security for rule in rules if rule.security is not None]
            if security:
                operation["security"] = list(security[-1])
            if (method, path) in bodies:
                operation["requestBody"] = {"required": True, "content": bodies[method, path]}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return document


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """``app.openapi``: built once, on first request."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        document.setdefault("components", {}).setdefault("schemas", {}).update(manifest_component())
        app.openapi_schema = correct(document)
    return app.openapi_schema
