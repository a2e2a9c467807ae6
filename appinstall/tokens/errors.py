"""The two error dialects of the token service, as pure code.

OAuth endpoints answer as RFC 6749 §5.2 says (``{"error", "error_description"}``, never cached); the platform's
own API answers 401s in its envelope (``{"kind": "resp", "code": 401, "body": {…}, "type": ".ReqBody$ErrorResp"}``)
with its numeric codes, which connectors branch on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import Request
from fastapi.responses import JSONResponse

from appinstall.http.problems import ExceptionHandlers

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# The platform's 401 codes.
INVALID_APP_JWT: Final = 40102
INVALID_CONSUMER_JWS: Final = 40103
CONSUMER_JWS_MISSING: Final = 40104
APP_JWT_MISSING: Final = 40105
BAD_REQUEST_BODY: Final = 40001


@dataclass
class OAuthError(Exception):
    """An RFC 6749 §5.2 error. ``invalid_client`` is 401 (with a challenge when Basic was used), others 400."""

    error: str
    description: str
    status: int = 400
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(
            {"error": self.error, "error_description": self.description},
            status_code=self.status,
            headers={**NO_STORE, **self.headers},
        )


def invalid_client(description: str, *, basic: bool) -> OAuthError:
    challenge = {"WWW-Authenticate": 'Basic realm="appinstall", charset="UTF-8"'} if basic else {}
    return OAuthError("invalid_client", description, 401, challenge)


@dataclass
class PlatformError(Exception):
    """An error in the platform's response envelope."""

    status: int
    code: int
    title: str
    details: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "kind": "resp",
            "code": self.status,
            "body": {"title": self.title, "details": self.details, "errorCode": self.code},
            "type": ".ReqBody$ErrorResp",
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def unauthorized(code: int, details: str) -> PlatformError:
    return PlatformError(401, code, "Unauthorized", details)


async def _on_oauth_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OAuthError)
    return error.response()


async def _on_platform_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, PlatformError)
    return error.response()


TOKEN_EXCEPTION_HANDLERS: ExceptionHandlers = {OAuthError: _on_oauth_error, PlatformError: _on_platform_error}
