"""The two signatures on every webhook request, as pure functions of the secret and the exact body bytes.

* The platform's own scheme, which its connectors already verify: ``x-liveperson-signature: sha1=`` +
  base64(HMAC-SHA1(key = client secret, message = raw body)).
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-signature: v1,`` + base64(HMAC-SHA256(key =
  secret bytes, message = ``{id}.{timestamp}.{body}``)), so a receiver can use any Standard Webhooks library with
  ``whsec_`` + base64(client secret). While a rotated secret is in its grace period both secrets sign,
  space-separated, so a receiver holding either one verifies.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Mapping

PLATFORM_SIGNATURE_HEADER = "x-liveperson-signature"
ACCOUNT_HEADER = "x-liveperson-account-id"
CLIENT_HEADER = "x-liveperson-client-id"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
# Which attempt of the delivery this request is, from 1, counting every attempt (a hand-made retry goes on counting).
# ``webhook-id`` is the same on every attempt; this tells a receiver (and ``appinstall listen``) a retry from a new
# event. It is not signed: it informs, and nothing should be decided on it that a replay could abuse.
ATTEMPT_HEADER = "webhook-attempt"


def platform_signature(secret: str, body: bytes) -> str:
    """``sha1=`` + base64 of HMAC-SHA1 of the body, keyed by the client secret's UTF-8 bytes."""
    return "sha1=" + base64.b64encode(hmac.digest(secret.encode(), body, "sha1")).decode()


def standard_signature(secrets: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` per secret, space-separated, over ``{message_id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.digest(secret.encode(), signed, "sha256")).decode() for secret in secrets
    )


def receiver_secret(secret: str) -> str:
    """The client secret written as Standard Webhooks libraries take it: ``whsec_`` + base64 of its bytes."""
    return "whsec_" + base64.b64encode(secret.encode()).decode()


def signature_headers(
    *,
    account_id: str,
    client_id: str,
    secrets: list[str],
    message_id: str,
    timestamp: int,
    body: bytes,
) -> dict[str, str]:
    """Every header that identifies and signs one request. ``secrets[0]`` is the current secret."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return {
        ACCOUNT_HEADER: account_id,
        CLIENT_HEADER: client_id,
        PLATFORM_SIGNATURE_HEADER: platform_signature(secrets[0], body),
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: standard_signature(secrets, message_id, timestamp, body),
    }


def verify_platform_signature(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the platform signature of ``body`` under ``secret`` (constant time)."""
    return hmac.compare_digest(platform_signature(secret, body).encode(), header.strip().encode())


def verify_standard_signature(
    secrets: Iterable[str], headers: Mapping[str, str], body: bytes, *, now: int, tolerance: int = 300
) -> bool:
    """Whether any ``v1`` signature in the headers matches any secret, with a timestamp within ``tolerance`` s."""
    message_id = headers.get(ID_HEADER, "")
    try:
        timestamp = int(headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        return False
    if not message_id or abs(now - timestamp) > tolerance:
        return False
    offered = [part.split(",", 1)[1] for part in headers.get(SIGNATURE_HEADER, "").split() if part.startswith("v1,")]
    matched = False
    for secret in secrets:
        expected = standard_signature([secret], message_id, timestamp, body).split(",", 1)[1]
        for candidate in offered:
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
    return matched
