"""The sandbox's end-to-end tests deliver webhooks: they share the webhook tests' receiver and settings."""

from tests.webhooks.conftest import no_errors_logged, receiver, settings, tls_files

__all__ = ["no_errors_logged", "receiver", "settings", "tls_files"]
