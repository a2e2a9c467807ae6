"""The App Install manifest: model, validation and JSON Schema."""

from appinstall.manifest.errors import Problem
from appinstall.manifest.models import Manifest
from appinstall.manifest.service import ValidationResult, validate_document, validate_manifest

__all__ = ["Manifest", "Problem", "ValidationResult", "validate_document", "validate_manifest"]
