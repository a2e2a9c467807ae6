"""Validating a manifest: bytes or parsed JSON in, a model plus every problem out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from appinstall.manifest import rules
from appinstall.manifest.errors import Problem, pointer, problems_from
from appinstall.manifest.models import ALLOW_LOCAL_HTTP, Manifest
from appinstall.manifest.parsing import DocumentError, parse_document


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """The outcome of validating one manifest. ``manifest`` is set exactly when there are no errors."""

    manifest: Manifest | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": [problem.to_dict() for problem in self.errors],
            "warnings": [problem.to_dict() for problem in self.warnings],
        }


def _legacy_key_warning(key: str) -> Problem:
    return Problem(
        pointer(("capabilities", "webhooks", key)),
        "deprecated_key",
        f"{key!r} is the seed table's spelling; it is read as {rules.EX_CONVERSATION_CHANGE!r}",
        f"rename the key to {rules.EX_CONVERSATION_CHANGE!r}",
    )


_CURRENT_PREFIX = pointer(("capabilities", "webhooks", rules.EX_CONVERSATION_CHANGE))
_LEGACY_PREFIX = pointer(("capabilities", "webhooks", rules.LEGACY_EX_CONVERSATION_CHANGE))


def _under_legacy_key(problem: Problem) -> Problem:
    """Point back into the document as written when the legacy key was renamed before validation."""
    if problem.pointer == _CURRENT_PREFIX or problem.pointer.startswith(_CURRENT_PREFIX + "/"):
        return replace(problem, pointer=_LEGACY_PREFIX + problem.pointer[len(_CURRENT_PREFIX) :])
    return problem


def validate_document(document: Any, *, allow_local_http: bool = False) -> ValidationResult:
    """Validate already-parsed JSON. Use ``validate_manifest`` for raw bytes, which also catches duplicate keys.

    ``allow_local_http`` also accepts webhook endpoints on plain http to this machine (a development server's).
    """
    context: dict[str, Any] = {ALLOW_LOCAL_HTTP: allow_local_http}
    try:
        manifest = Manifest.model_validate(document, context=context)
    except ValidationError as error:
        manifest, errors = None, problems_from(error, Manifest)
    else:
        errors = []
    warnings = [_legacy_key_warning(key) for key in context.get("warnings", ())]
    if warnings:
        errors = [_under_legacy_key(problem) for problem in errors]
    return ValidationResult(manifest, errors, warnings)


def validate_manifest(data: bytes | str, *, allow_local_http: bool = False) -> ValidationResult:
    """Parse and validate a manifest, reporting every problem at once."""
    try:
        document = parse_document(data)
    except DocumentError as error:
        return ValidationResult(None, error.problems)
    return validate_document(document, allow_local_http=allow_local_http)
