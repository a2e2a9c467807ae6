"""What went wrong with a request that got no answer, in words a person reads in the delivery log.

aiohttp's own messages (``Cannot connect to host 127.0.0.1:8443 ssl:default [Connect call failed ('127.0.0.1',
8443)]``) are precise but long, vary between releases and platforms, and bury the one fact that matters. So each
failure gets two texts: a short, stable ``error`` (``connection refused``, ``timed out after 10 s``…) that the
attempt log, ``last_error`` and dashboards show and that people can search for, and the library's ``detail``, kept
beside it for whoever needs the exact words. A refusal by the SSRF guard also says what would admit the address.

Pure: it only reads the exception, so every case is unit-tested without a network.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from dataclasses import dataclass

import aiohttp

from appinstall.webhooks.ssrf import BLOCKED, BlockedAddressError

# OpenSSL's verify codes that have a plainer word than "not trusted".
_EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED
_NAME_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH

ALLOW_HINT = "APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it"
LOOPBACK_HINT = "--dev or APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it"


@dataclass(frozen=True, slots=True)
class Failure:
    """``error``: short and stable, for people and searches. ``detail``: the library's own text."""

    error: str
    detail: str


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _library_text(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def describe(error: BaseException, *, timeout: float, connect_timeout: float) -> Failure:
    """The short error and the detail of a request that failed with ``error``; ``timeout`` and ``connect_timeout``
    are the sender's limits (seconds), named in a timeout's error."""
    detail = _library_text(error)
    return Failure(_short(error, timeout=timeout, connect_timeout=connect_timeout), detail)


def _short(error: BaseException, *, timeout: float, connect_timeout: float) -> str:
    # Order matters: aiohttp's classes inherit from each other and from the standard library's.
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return f"timed out after {_seconds(connect_timeout)} connecting"
    if isinstance(error, TimeoutError):
        return f"timed out after {_seconds(timeout)}"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return _certificate(error.certificate_error, error.host)
    if isinstance(error, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return f"TLS handshake failed: {_ssl_reason(error)}"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"DNS lookup failed for {error.host}"
    if isinstance(error, aiohttp.ClientConnectorError):
        return _connect(error.os_error, error.host, error.port)
    if isinstance(error, BlockedAddressError):
        return _blocked([error.reason])
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "connection closed before an answer"
    if isinstance(error, ConnectionResetError) or getattr(error, "errno", None) == errno.ECONNRESET:
        return "connection reset"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "answer cut short"
    if isinstance(error, aiohttp.InvalidURL | ValueError):
        return "not a valid URL"
    return f"request failed ({type(error).__name__})"


def _certificate(error: BaseException, host: str) -> str:
    code = getattr(error, "verify_code", None)
    if code == _EXPIRED:
        return "TLS certificate expired"
    if code in _NAME_MISMATCH:
        return f"TLS certificate is not for {host}"
    return "TLS certificate not trusted"


def _ssl_reason(error: BaseException) -> str:
    """OpenSSL's reason (``WRONG_VERSION_NUMBER``) in lower case, or the message when there is none."""
    inner = getattr(error, "os_error", error)
    reason = getattr(inner, "reason", None)
    if isinstance(reason, str) and reason:
        return reason.replace("_", " ").lower()
    return str(getattr(inner, "strerror", None) or inner)


def _connect(os_error: OSError, host: str, port: int | None) -> str:
    """A connect that failed: refused, blocked by the guard, unreachable, or DNS (before aiohttp named that)."""
    if isinstance(os_error, BlockedAddressError):
        return _blocked([os_error.reason])
    if isinstance(os_error, socket.gaierror):
        return f"DNS lookup failed for {host}"
    text = str(os_error)
    if BLOCKED in text and os_error.errno == errno.EACCES:
        # Several addresses, all refused by the guard: aiohappyeyeballs joins their messages into one OSError,
        # "Multiple exceptions: [Errno 13] blocked …: <reason>, [Errno 13] blocked …: <reason>".
        reasons = [_JOINED_TAIL.sub("", part).strip() for part in text.split(BLOCKED)[1:]]
        return _blocked(reasons)
    if isinstance(os_error, ConnectionRefusedError) or os_error.errno == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(os_error, ConnectionResetError) or os_error.errno == errno.ECONNRESET:
        return "connection reset"
    if os_error.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"{host} is unreachable"
    return f"could not connect to {host}:{port}"


_JOINED_TAIL = re.compile(r",\s*\[Errno \d+\]\s*$")


def _blocked(reasons: list[str]) -> str:
    """``blocked: <reason> (<what would admit it>)``: loopback is admitted by dev mode too, the rest only by the
    operator's allow-list."""
    loopback = all(_LOOPBACK.match(reason) for reason in reasons)
    return f"blocked: {', '.join(reasons)} ({LOOPBACK_HINT if loopback else ALLOW_HINT})"


# The guard's words for loopback, bare or IPv4-mapped (see ``AddressPolicy.refusal``).
_LOOPBACK = re.compile(r"(loopback address|IPv4-mapped address \S+ embeds loopback address) ")


__all__ = ["ALLOW_HINT", "LOOPBACK_HINT", "Failure", "describe"]
