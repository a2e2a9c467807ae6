"""Validating a manifest: bytes or parsed JSON in, a model plus every problem out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from appinstall.manifest import endpoints, rules, vocabulary
from appinstall.manifest.errors import Problem, pointer, problems_from
from appinstall.manifest.fields import ALLOW_LOCAL_HTTP
from appinstall.manifest.models import Manifest
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
        f"{key!r} is the seed table's spelling; it is read as {vocabulary.EX_CONVERSATION_CHANGE!r}",
        f"rename the key to {vocabulary.EX_CONVERSATION_CHANGE!r}",
    )


_CURRENT_PREFIX = pointer(("capabilities", "webhooks", vocabulary.EX_CONVERSATION_CHANGE))
_LEGACY_PREFIX = pointer(("capabilities", "webhooks", vocabulary.LEGACY_EX_CONVERSATION_CHANGE))


def _under_legacy_key(problem: Problem) -> Problem:
    """Point back into the document as written when the legacy key was renamed before validation."""
    if problem.pointer == _CURRENT_PREFIX or problem.pointer.startswith(_CURRENT_PREFIX + "/"):
        return replace(problem, pointer=_LEGACY_PREFIX + problem.pointer[len(_CURRENT_PREFIX) :])
    return problem


def _without_server_fields(document: Any) -> tuple[Any, list[Problem]]:
    """The document minus the fields a read returns but the server owns, and a warning for each one given.

    A client that reads an installation and sends it back (or saves it as a file) repeats them; they are not
    manifest fields, but neither are they mistakes worth failing for.
    """
    if not isinstance(document, dict) or not any(key in document for key in rules.SERVER_FIELDS):
        return document, []
    warnings = [
        Problem(
            pointer((key,)),
            "server_field",
            "is set by the server; ignored in a manifest",
            "remove it from the file; the server keeps its own value",
        )
        for key in document
        if key in rules.SERVER_FIELDS
    ]
    return {key: value for key, value in document.items() if key not in rules.SERVER_FIELDS}, warnings


def _endpoint_warnings(manifest: Manifest, *, dev: bool) -> list[Problem]:
    webhooks = manifest.capabilities.webhooks if manifest.capabilities is not None else None
    if webhooks is None:
        return []
    warnings = []
    for event, webhook in webhooks.subscriptions().items():
        refusal = endpoints.refusal_warning(webhook.endpoint, dev=dev)
        if refusal is not None:
            where = pointer(("capabilities", "webhooks", event, "endpoint"))
            warnings.append(Problem(where, "unreachable_endpoint", *refusal))
    return warnings


def validate_document(document: Any, *, allow_local_http: bool = False) -> ValidationResult:
    """Validate already-parsed JSON. Use ``validate_manifest`` for raw bytes, which also catches duplicate keys.

    ``allow_local_http`` also accepts webhook endpoints on plain http to this machine (a development server's).
    Server-owned fields (``id``, ``client_secret``…) are dropped with a warning, and so is an editor's ``$schema``
    (silently); endpoints the delivery worker refuses by default are valid but warned about.
    """
    document, warnings = _without_server_fields(document)
    context: dict[str, Any] = {ALLOW_LOCAL_HTTP: allow_local_http}
    manifest: Manifest | None = None
    errors: list[Problem] = []
    try:
        manifest = Manifest.model_validate(document, context=context)
    except ValidationError as error:
        errors = problems_from(error, Manifest, {ALLOW_LOCAL_HTTP: allow_local_http})
    else:
        warnings += _endpoint_warnings(manifest, dev=allow_local_http)
    legacy = context.get("warnings", ())
    if legacy:
        errors = [_under_legacy_key(problem) for problem in errors]
        warnings = [_under_legacy_key(problem) for problem in warnings]
    warnings += [_legacy_key_warning(key) for key in legacy]
    return ValidationResult(manifest, errors, warnings)


def validate_manifest(data: bytes | str, *, allow_local_http: bool = False) -> ValidationResult:
    """Parse and validate a manifest, reporting every problem at once."""
    try:
        document = parse_document(data)
    except DocumentError as error:
        return ValidationResult(None, error.problems)
    return validate_document(document, allow_local_http=allow_local_http)
