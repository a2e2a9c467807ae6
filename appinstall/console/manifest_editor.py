"""The console's manifest editor: the text it starts from, and the problems of the text it holds, located.

The editor shows an installation's manifest as the API shows it (header values masked), without the fields the
server owns (id, credentials, enabled…): those are not the user's to edit here, and sending the masked text back
keeps the stored header values (``registry.header_values.keep_masked_values``). Checking runs the project's own
validator, so the page, the CLI and the API name the same problems at the same pointers; a text that is not JSON
at all also gets the line and column where reading stopped, so the editor can put the cursor there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from appinstall.console.deps import AccountDep, checked_form
from appinstall.console.pages import PREFIX, ConsoleRoute
from appinstall.errors import Invalid
from appinstall.http.deps import app_state
from appinstall.manifest import Problem, ValidationResult, validate_manifest
from appinstall.registry.models import SERVER_FIELDS, Installation

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)

CHECK = PREFIX + "/accounts/{account_id}/manifests/check"


def editor_text(installation: Installation) -> str:
    """The manifest to edit: the API's view of it (secrets masked), minus the server's fields, as indented JSON."""
    wire = installation.to_wire(show_secret=False)
    manifest = {key: value for key, value in wire.items() if key not in SERVER_FIELDS}
    return json.dumps(manifest, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class Located:
    """A problem of the editor's text, with where reading stopped (1-based) when the text is not JSON."""

    problem: Problem
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.problem.to_dict(), "line": self.line, "column": self.column}


def _parse_position(text: str) -> tuple[int | None, int | None]:
    """Where Python's JSON reader stops on ``text`` (None when it reads it, as with a duplicate key)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return error.lineno, error.colno
    except (ValueError, RecursionError):
        return None, None
    return None, None


def locate(problems: list[Problem], text: str) -> list[Located]:
    """``problems`` with the parse position added to those that say the text is not JSON."""
    if not any(problem.code == "invalid_json" for problem in problems):
        return [Located(problem) for problem in problems]
    line, column = _parse_position(text)
    return [Located(p, line, column) if p.code == "invalid_json" else Located(p) for p in problems]


def check(text: str, *, dev: bool) -> ValidationResult:
    """The validator's verdict on the editor's text; ``dev`` (a development server) accepts local http endpoints."""
    return validate_manifest(text, allow_local_http=dev)


def check_answer(result: ValidationResult, text: str) -> dict[str, Any]:
    return {
        "valid": result.valid,
        "errors": [located.to_dict() for located in locate(result.errors, text)],
        "warnings": [located.to_dict() for located in locate(result.warnings, text)],
    }


async def _editor_text_of(request: Request) -> str:
    """The ``manifest`` string of a JSON body ``{"manifest": "…"}``, as the editor's script sends it."""
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("manifest"), str):
        raise Invalid("invalid-body", 'send {"manifest": "<the editor\'s text>"} as JSON')
    text: str = body["manifest"]
    return text


@router.post(CHECK, dependencies=[Depends(checked_form)])
async def check_manifest(request: Request, account: AccountDep) -> JSONResponse:
    """Validate the editor's text as it is typed (the CSRF header is checked like a form's token)."""
    text = await _editor_text_of(request)
    result = check(text, dev=app_state(request).settings.dev)
    return JSONResponse(check_answer(result, text))
