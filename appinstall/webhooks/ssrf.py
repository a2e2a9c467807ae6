"""The SSRF guard for outbound webhook requests: tenants choose the URL, the operator chooses where it may lead.

A tenant-configured webhook URL must not become a way to reach the operator's own network (databases, admin
ports, the cloud metadata service). Checking the host name when the URL is saved is not enough: DNS can answer
differently at delivery time (rebinding), and a URL may name an IP literal in one of the many IPv6 spellings that
wrap an IPv4 address. So the check runs at connect time, on the socket address aiohttp is about to connect to,
after DNS: :func:`guarded_connector` builds a ``TCPConnector`` whose ``socket_factory`` refuses, before a socket
exists, every address the :class:`AddressPolicy` does not admit. aiohttp calls that factory for each address it
tries (IP literals included: they skip the resolver but not the factory), so a refused address is never connected
to, and when a name has several addresses the admitted ones are still tried.

Proxies are outside this guard: through a proxy the factory only sees the proxy's address, so webhook sessions
must not use one (``trust_env=False``, the default, and no ``proxy=``).
"""

from __future__ import annotations

import errno
import functools
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any, Final

import aiohttp
from yarl import URL

from appinstall.manifest.rules import describe_bad_host

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Instance metadata and host-agent endpoints, named so the refusal says what was being reached. Most are also
# link-local or private; Azure's wireserver is a public address and is refused only because it is listed here.
_METADATA: dict[Address, str] = {
    IPv4Address("169.254.169.254"): "AWS, GCP, Azure, OCI, DigitalOcean",
    IPv4Address("169.254.170.2"): "AWS ECS task metadata",
    IPv4Address("169.254.170.23"): "AWS EKS pod identity",
    IPv4Address("100.100.100.200"): "Alibaba Cloud",
    IPv4Address("168.63.129.16"): "Azure wireserver",
    IPv6Address("fd00:ec2::254"): "AWS IMDS over IPv6",
    IPv6Address("fd00:ec2::23"): "AWS EKS pod identity over IPv6",
}

# Special-purpose IPv4 ranges that ``ipaddress`` has no specific property for, most specific reason first. Listed
# rather than left to ``is_global``, whose answer for some (192.0.0.0/24) changed between Python releases.
_V4_RANGES: tuple[tuple[IPv4Network, str], ...] = (
    (IPv4Network("0.0.0.0/8"), "'this network' address"),
    (IPv4Network("255.255.255.255/32"), "broadcast address"),
    (IPv4Network("100.64.0.0/10"), "shared (carrier-grade NAT) address"),
    (IPv4Network("192.0.0.0/24"), "IETF protocol assignment address"),
    (IPv4Network("198.18.0.0/15"), "benchmarking address"),
    (IPv4Network("192.0.2.0/24"), "documentation address"),
    (IPv4Network("198.51.100.0/24"), "documentation address"),
    (IPv4Network("203.0.113.0/24"), "documentation address"),
    (IPv4Network("10.0.0.0/8"), "private address"),
    (IPv4Network("172.16.0.0/12"), "private address"),
    (IPv4Network("192.168.0.0/16"), "private address"),
    (IPv4Network("240.0.0.0/4"), "reserved address"),
)

_V6_COMPATIBLE = IPv6Network("::/96")
_NAT64 = IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = IPv6Network("64:ff9b:1::/48")
_V6_GLOBAL_UNICAST = IPv6Network("2000::/3")

# Special-purpose IPv6 ranges, checked after the embedded IPv4 (if any) has passed. Not ``is_global``: its answer
# for these changed between Python releases (3.11 still calls site-local, 6to4 and local NAT64 global).
_V6_RANGES: tuple[tuple[IPv6Network, str], ...] = (
    (_V6_COMPATIBLE, "IPv4-compatible (deprecated) address"),
    (_NAT64_LOCAL, "local-use NAT64 address"),
    (IPv6Network("2002::/16"), "6to4 address"),
    (IPv6Network("2001::/32"), "Teredo address"),
    (IPv6Network("2001:db8::/32"), "documentation address"),
    (IPv6Network("100::/64"), "discard-only address"),
    (IPv6Network("fc00::/7"), "private (unique local) address"),
    (IPv6Network("fec0::/10"), "site-local address"),
)


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound webhook connections may reach: globally routable ones, plus what is allowed.

    ``allow`` is the operator's allow-list: an address in one of these networks is admitted whatever it is
    (including a metadata address, so keep entries narrow). ``allow_loopback`` is dev mode: loopback is admitted,
    everything else non-global is still refused.
    """

    allow: tuple[Network, ...] = ()
    allow_loopback: bool = False

    def refusal(self, address: Address) -> str | None:
        """``None`` if ``address`` may be connected to, otherwise why not, naming the address."""
        if isinstance(address, IPv6Address) and address.scope_id:
            address = IPv6Address(int(address))  # the scope is only an interface choice
        if any(address in network for network in self.allow):
            return None
        if address in _METADATA:
            return f"cloud metadata address {address} ({_METADATA[address]})"
        if address.is_unspecified:
            return f"unspecified address {address}"
        if address.is_loopback:
            return None if self.allow_loopback else f"loopback address {address}"
        if isinstance(address, IPv4Address):
            return _v4_refusal(address)
        return self._v6_refusal(address)

    def _v6_refusal(self, address: IPv6Address) -> str | None:
        mapped = address.ipv4_mapped
        if mapped is not None:  # the kernel connects to the IPv4 address itself: judge that alone
            inner = self.refusal(mapped)
            return None if inner is None else f"IPv4-mapped address {address} embeds {inner}"
        for wrapper, embedded in _embedded_ipv4(address):
            inner = self.refusal(embedded)
            if inner is not None:
                return f"{wrapper} address {address} embeds {inner}"
        if address.is_link_local:
            return f"link-local address {address}"
        if address.is_multicast:
            return f"multicast address {address}"
        for network, reason in _V6_RANGES:
            if address in network:
                return f"{reason} {address}"
        if address not in _V6_GLOBAL_UNICAST and address not in _NAT64:
            return f"reserved address {address}"
        if not address.is_global:
            return f"non-global address {address}"
        return None


def _v4_refusal(address: IPv4Address) -> str | None:
    if address.is_link_local:
        return f"link-local address {address}"
    if address.is_multicast:
        return f"multicast address {address}"
    for network, reason in _V4_RANGES:
        if address in network:
            return f"{reason} {address}"
    if not address.is_global:
        return f"non-global address {address}"
    return None


def _embedded_ipv4(address: IPv6Address) -> list[tuple[str, IPv4Address]]:
    """The IPv4 addresses an IPv6 address carries, each with the name of the wrapping (IPv4-mapped aside)."""
    low32 = IPv4Address(int(address) & 0xFFFFFFFF)
    found: list[tuple[str, IPv4Address]] = []
    if address in _V6_COMPATIBLE:
        found.append(("IPv4-compatible", low32))
    if address in _NAT64 or address in _NAT64_LOCAL:
        found.append(("NAT64", low32))
    if address.sixtofour is not None:
        found.append(("6to4", address.sixtofour))
    if address.teredo is not None:
        server, client = address.teredo
        found.extend((("Teredo", client), ("Teredo", server)))
    return found


def parse_allow_list(values: Iterable[str]) -> tuple[Network, ...]:
    """The operator's allow-list from CIDR strings (a bare address is a single-address network)."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ip_network(value.strip()))
        except ValueError as error:
            raise ValueError(f"allow-list entry {value!r} is not a CIDR network: {error}") from error
    return tuple(networks)


# How a refusal's message starts (after OSError's "[Errno 13] "), so a joined message of several can be read back.
BLOCKED: Final = "blocked by the outbound address policy: "
ENDPOINTS_REMEMBERED: Final = 4096  # endpoints whose check and parsed URL are kept (here and in ``sender``)


class BlockedAddressError(OSError):
    """A connection refused by the :class:`AddressPolicy` before its socket was created.

    An ``OSError`` so aiohttp treats it like any failed connect: it tries the next address of the host, and if none
    is left raises ``aiohttp.ClientConnectorError`` whose message carries this one.
    """

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(errno.EACCES, BLOCKED + reason)
        self.address = address
        self.reason = reason


def guarded_socket_factory(policy: AddressPolicy) -> aiohttp.SocketFactoryType:
    """A ``socket_factory`` for ``TCPConnector`` that refuses, per connect attempt, what ``policy`` refuses."""

    def create_socket(addr_info: aiohttp.AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        host = str(sockaddr[0])
        if family not in (socket.AF_INET, socket.AF_INET6):
            raise BlockedAddressError(host, f"address family {family!r} is not IP")
        try:
            address = ip_address(host)
        except ValueError:
            # Never hand a name to sock_connect: the event loop would resolve it again, unchecked.
            raise BlockedAddressError(host, f"{host!r} is not a numeric IP address") from None
        reason = policy.refusal(address)
        if reason is not None:
            raise BlockedAddressError(host, reason)
        return socket.socket(family=family, type=type_, proto=proto)

    return create_socket


def guarded_connector(policy: AddressPolicy, **connector_kwargs: Any) -> aiohttp.TCPConnector:
    """A ``TCPConnector`` that only connects to addresses ``policy`` admits; other arguments pass through."""
    if "socket_factory" in connector_kwargs:
        raise TypeError("guarded_connector sets socket_factory itself")
    return aiohttp.TCPConnector(socket_factory=guarded_socket_factory(policy), **connector_kwargs)


@functools.lru_cache(maxsize=ENDPOINTS_REMEMBERED)
def endpoint_refusal(url: str, *, dev: bool) -> str | None:
    """``None`` if ``url`` is acceptable as a webhook endpoint before any connection, otherwise why not.

    https only (http too in dev mode), no credentials in the URL, a host. Where the host leads is checked at connect
    time by :func:`guarded_connector`. Asked before every attempt, of the few endpoints the manifests name: the
    answers are remembered (it reads nothing but the URL).
    """
    try:
        parsed = URL(url)
    except ValueError as error:
        return f"not a valid URL: {error}"
    if not parsed.absolute or not parsed.host:
        return "the URL has no host"
    # An endpoint stored before the manifest refused them: [::::], 2130706433, 127.1, 0x7f.0.0.1.
    host = f"[{parsed.raw_host}]" if ":" in (parsed.raw_host or "") else parsed.raw_host or ""
    if (bad_host := describe_bad_host(host)) is not None:
        return f"the URL {bad_host}"
    if parsed.scheme == "http" and not dev:
        return "http is allowed only in dev mode; use https"
    if parsed.scheme not in ("https", "http"):
        return f"scheme {parsed.scheme!r} is not https"
    if parsed.raw_user is not None or parsed.raw_password is not None:
        return "the URL carries credentials (user:password@); send them as a header instead"
    return None
