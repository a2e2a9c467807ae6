"""The headers of one webhook request, built in one place for the worker that sends it and for the delivery log
that shows it (with the signatures masked)."""

from __future__ import annotations

from collections.abc import Mapping

from appinstall.connector.signing import (
    ATTEMPT_HEADER,
    PLATFORM_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    Algorithm,
    Encoding,
    signature_headers,
)
from appinstall.manifest.rules import is_reserved_header
from appinstall.webhooks.sender import USER_AGENT

MASK = "…"


def request_headers(
    custom: Mapping[str, str],
    *,
    account_id: str,
    client_id: str,
    secrets: list[str],
    message_id: str,
    timestamp: int,
    body: bytes,
    attempt: int,
    algorithm: Algorithm = "sha1",
    encoding: Encoding = "base64",
) -> dict[str, str]:
    """Every header of attempt number ``attempt`` (1-based): the manifest's, then the platform's and the signatures.

    A reserved header among the manifest's (one stored before the list grew) is left out: ``Expect`` or
    ``Connection`` would change how the request itself is sent."""
    return {
        **{name: value for name, value in custom.items() if not is_reserved_header(name)},
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(
            account_id=account_id,
            client_id=client_id,
            secrets=secrets,
            message_id=message_id,
            timestamp=timestamp,
            body=body,
            algorithm=algorithm,
            encoding=encoding,
        ),
        ATTEMPT_HEADER: str(attempt),
    }


def masked(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as shown to people: each signature keeps its scheme (``sha1=``, ``v1,``) and loses its value."""
    shown = dict(headers)
    if PLATFORM_SIGNATURE_HEADER in shown:
        shown[PLATFORM_SIGNATURE_HEADER] = shown[PLATFORM_SIGNATURE_HEADER].split("=", 1)[0] + "=" + MASK
    if SIGNATURE_HEADER in shown:
        shown[SIGNATURE_HEADER] = " ".join(f"v1,{MASK}" for _ in shown[SIGNATURE_HEADER].split())
    return shown
