"""The address a request came from: the peer's, or what trusted proxies say in ``X-Forwarded-For``.

Rate limits count failures per source address, so the address must be one a client cannot choose. A client can
write any ``X-Forwarded-For`` it likes; only a proxy the operator named (``APPINSTALL_TRUSTED_PROXIES``) is
believed, and only for the hops it and other trusted proxies appended. With none configured (the default) the
header is ignored and the peer's address is the answer, whoever sent the header.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Network = IPv4Network | IPv6Network

# An address longer than this is not one; a hop is cut to it so that a bucket's name stays bounded.
_MAX_HOP = 64


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings (a bare address is a one-address network); ``ValueError`` names the bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ip_network(value.strip(), strict=False))
        except ValueError as error:
            raise ValueError(f"{value!r} is not a CIDR network or an IP address: {error}") from None
    return tuple(networks)


def _address(text: str) -> IPv4Address | IPv6Address | None:
    try:
        address = ip_address(text.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(text: str, networks: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: tuple[Network, ...]) -> str | None:
    """The request's source address.

    The peer's, unless the peer is a trusted proxy and sent ``X-Forwarded-For``: then the hops are read from the
    right (the nearest first) past every trusted one, and the first that is not trusted is the client. A hop a
    trusted proxy wrote that is not an address (``unknown``, say) is taken as it is, cut short: it is what that
    proxy saw, and whoever sent it cannot write it.
    """
    if peer is None or not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    found = peer
    for hop in reversed(hops):
        found = hop[:_MAX_HOP]
        if not _trusted(hop, trusted):
            break
    address = _address(found)
    return found if address is None else str(address)
