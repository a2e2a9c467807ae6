"""The two signatures on every webhook request, as pure functions of the secret and the exact body bytes.

* The platform's own scheme, which its connectors already verify: ``x-liveperson-signature: sha1=`` +
  base64(HMAC-SHA1(key = client secret, message = raw body)) by default. As on the platform, an account may choose
  SHA-256 (``sha256=``) and hexadecimal instead of base64; a verifier tells them apart by the prefix and the length.
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-signature: v1,`` + base64(HMAC-SHA256(key =
  secret bytes, message = ``{id}.{timestamp}.{body}``)), so a receiver can use any Standard Webhooks library with
  ``whsec_`` + base64(client secret). While a rotated secret is in its grace period both secrets sign,
  space-separated, so a receiver holding either one verifies.

The contract both ends share, so it lives in the connector package: the server's sender signs with it
(``webhooks/request.py``) and a connector verifies with it (``receiving.verify``); neither copies it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping
from typing import Final, Literal, get_args

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

Algorithm = Literal["sha1", "sha256"]
Encoding = Literal["base64", "hex"]
ALGORITHMS: Final[tuple[Algorithm, ...]] = get_args(Algorithm)
ENCODINGS: Final[tuple[Encoding, ...]] = get_args(Encoding)
_DIGEST_BYTES: Final[dict[Algorithm, int]] = {"sha1": 20, "sha256": 32}


def platform_signature(secret: str, body: bytes, algorithm: Algorithm = "sha1", encoding: Encoding = "base64") -> str:
    """``sha1=`` (or ``sha256=``) + base64 (or hex) of the HMAC of the body, keyed by the client secret's UTF-8
    bytes. The defaults are the platform's."""
    digest = hmac.digest(secret.encode(), body, algorithm)
    return f"{algorithm}=" + (digest.hex() if encoding == "hex" else base64.b64encode(digest).decode())


def platform_form(header: str) -> tuple[Algorithm, Encoding] | None:
    """The algorithm and encoding a platform signature header is written in, or None if it is neither form.

    The prefix names the algorithm; the encoding follows from the length, which differs for every pair (SHA-1: 40
    hex or 28 base64 characters; SHA-256: 64 or 44), so a receiver need not be told the account's setting.
    """
    prefix, separator, value = header.strip().partition("=")
    algorithm = next((known for known in ALGORITHMS if known == prefix.lower()), None)
    if not separator or algorithm is None:
        return None
    size = _DIGEST_BYTES[algorithm]
    if len(value) == 2 * size:
        try:
            bytes.fromhex(value)
        except ValueError:
            return None
        return algorithm, "hex"
    try:
        decoded = base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
    return (algorithm, "base64") if len(decoded) == size else None


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
    algorithm: Algorithm = "sha1",
    encoding: Encoding = "base64",
) -> dict[str, str]:
    """Every header that identifies and signs one request. ``secrets[0]`` is the current secret; ``algorithm``
    and ``encoding`` are the account's choice for the platform signature (Standard Webhooks has no choice)."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign")
    return {
        ACCOUNT_HEADER: account_id,
        CLIENT_HEADER: client_id,
        PLATFORM_SIGNATURE_HEADER: platform_signature(secrets[0], body, algorithm, encoding),
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: standard_signature(secrets, message_id, timestamp, body),
    }


def verify_platform_signature(secret: str, body: bytes, header: str) -> bool:
    """Whether ``header`` is the platform signature of ``body`` under ``secret``, in whichever of the four forms it
    is written (constant time; hex in either case)."""
    form = platform_form(header)
    if form is None:
        return False
    algorithm, encoding = form
    offered = header.strip()
    if encoding == "hex":
        offered = offered.lower()
    expected = platform_signature(secret, body, algorithm, encoding)
    return hmac.compare_digest(expected.encode(), f"{algorithm}={offered.partition('=')[2]}".encode())


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
