"""appinstall: onboard connector apps to a messaging platform from an App Install manifest."""

from appinstall.manifest import Manifest, Problem, ValidationResult, validate_document, validate_manifest

__version__ = "0.1.0"

__all__ = ["Manifest", "Problem", "ValidationResult", "__version__", "validate_document", "validate_manifest"]
