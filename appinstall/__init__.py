"""appinstall: onboard connector apps to a messaging platform from an App Install manifest.

What is public (changed only deliberately, and said so):

- ``appinstall.connector``: what a connector app imports (the token client, webhook verification and its errors,
  the FastAPI and Flask helpers); it depends on no part of the server;
- the manifest validator exported here (``validate_manifest``, ``validate_document``, ``Manifest``, ``Problem``);
- the ``appinstall`` command and the HTTP API (``docs/http-api.md``).

Everything else (``accounts``, ``registry``, ``tokens``, ``webhooks``, ``sandbox``, ``store``, ``http``, ``app``,
``settings``, ``cli`` as modules, …) is the server's inside: importable, but private, and it may change in any
version. ``docs/architecture.md`` maps it.
"""

from appinstall.manifest import Manifest, Problem, ValidationResult, validate_document, validate_manifest

__version__ = "0.1.0"

__all__ = ["Manifest", "Problem", "ValidationResult", "__version__", "validate_document", "validate_manifest"]
