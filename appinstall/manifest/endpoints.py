"""Where a webhook endpoint leads, as far as its URL alone tells: a warning before the first delivery fails.

The validator accepts ``https://127.0.0.1/…`` or ``https://10.0.0.5/…``: the URL is well formed, and an operator may
admit such addresses. But by default the delivery worker's SSRF guard (``appinstall.webhooks.ssrf``) refuses them at
connect time, so a manifest author deserves to hear it at validation instead of from a failed delivery.

This is not the guard and does not need to be as thorough: it only looks at IP literals and ``localhost`` (names
are resolved at delivery, where the guard decides). It classifies with the standard library's address properties
rather than importing the guard, which lives in ``appinstall.webhooks`` and depends on this package; a test checks
that the two agree on every address class.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Final

# The host of an https (or development http) URL, brackets of an IPv6 literal included.
_HOST: Final = re.compile(r"^https?://(\[[^\]]*\]|[^/?#:]*)", re.IGNORECASE)
# What ``inet_aton`` reads as an IPv4 address besides the dotted quad: 2130706433, 127.1, 0x7f.0.0.1.
_IPV4_SHORTHAND: Final = re.compile(r"^(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)

LOOPBACK: Final = "loopback"


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.removeprefix("[").removesuffix("]").split("%", 1)[0])
    except ValueError:
        if not _IPV4_SHORTHAND.match(host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_class(url: str) -> str | None:
    """``"loopback"``, ``"link-local"``, ``"private-network"`` or ``"non-public"`` when the URL names such an
    address (or ``localhost``); None for a public address or a host name, which only DNS can place."""
    found = _HOST.match(url)
    if found is None:
        return None
    host = found.group(1).lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return LOOPBACK
    address = _address(host)
    if address is None:
        return None
    if address.is_loopback:
        return LOOPBACK
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private-network"
    if not address.is_global:
        return "non-public"
    return None


def refusal_warning(url: str, *, dev: bool) -> tuple[str, str] | None:
    """Why the delivery worker will refuse this endpoint by default, and what admits it; None if it will not.

    A development server (``--dev``) admits loopback, so with ``dev`` only the other classes are worth a warning.
    """
    kind = address_class(url)
    if kind is None or (kind == LOOPBACK and dev):
        return None
    if kind == LOOPBACK:
        return (
            "names a loopback address: deliveries to it are refused unless the server runs with --dev "
            "or APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it",
            "for a receiver on this machine run `appinstall serve --dev`; otherwise use the receiver's public host",
        )
    return (
        f"names a {kind} address: deliveries to it are refused unless APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it",
        "admit the network on the server (APPINSTALL_WEBHOOK_ALLOW_CIDRS), or use the receiver's public host",
    )
