"""The server's own base URL, for the answers that tell clients where to go: domain discovery (CSDS) and the OAuth
metadata.

Taking it from each request's ``Host`` header would let anyone who can send a request choose where those answers
point (``Host: attacker.example`` made every ``baseURI`` and the ``token_endpoint`` point there), and a cache in
front of the server could keep such an answer for others. So the base URL is ``APPINSTALL_PUBLIC_URL`` when it is
set. Otherwise it is the request's own, but only for a ``Host`` the operator listed in ``APPINSTALL_ALLOWED_HOSTS``
or, in development mode, a loopback host (``localhost``, ``127.0.0.1``, ``[::1]``, any port); any other ``Host``
gets a 400 problem naming both settings. Answers built from the request say so to caches (``cache_headers``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import ip_address

from starlette.requests import Request

from appinstall.http.problems import ProblemError
from appinstall.settings import Settings

_CONFIGURED_CACHE = {"Cache-Control": "public, max-age=300"}
_PER_HOST_CACHE = {"Cache-Control": "private, no-cache", "Vary": "Host"}


def split_host(value: str) -> tuple[str, str | None]:
    """``host`` and ``port`` (None when absent) of a ``Host`` header or an allow-list entry, the host lowercased;
    an IPv6 literal keeps its brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value.partition("]")
        return host + "]", rest.removeprefix(":") or None
    host, colon, port = value.rpartition(":")
    return (host, port or None) if colon else (value, None)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def host_allowed(header: str, allowed: Sequence[str], *, dev: bool) -> bool:
    """Whether a request's ``Host`` may name this server: listed (an entry without a port allows any port), or a
    loopback host in development mode."""
    host, port = split_host(header)
    if not host:
        return False
    for entry in allowed:
        entry_host, entry_port = split_host(entry)
        if entry_host == host and (entry_port is None or entry_port == port):
            return True
    return dev and is_loopback(host)


@dataclass(frozen=True)
class PublicBase:
    """The base URL (no trailing slash) and the caching headers for an answer built on it."""

    url: str
    cache_headers: dict[str, str]


def public_base(request: Request, settings: Settings) -> PublicBase:
    """The base URL to announce in answers to ``request`` under ``settings``, or a 400 problem for a ``Host`` that
    is not this server's."""
    if settings.public_url:
        return PublicBase(str(settings.public_url).rstrip("/"), dict(_CONFIGURED_CACHE))
    header = request.headers.get("host", "")
    if not host_allowed(header, settings.allowed_hosts, dev=settings.dev):
        shown = header[:100] if header.isprintable() else repr(header[:100])
        raise ProblemError(
            400,
            "unknown-host",
            f"Host {shown!r} is not a name of this server: set APPINSTALL_PUBLIC_URL to the server's public base URL, "
            "or list the host in APPINSTALL_ALLOWED_HOSTS",
        )
    return PublicBase(str(request.base_url).rstrip("/"), dict(_PER_HOST_CACHE))
