"""The SSRF guard: which addresses a webhook may reach, and that aiohttp really asks at connect time.

The address matrix checks ``AddressPolicy`` alone. The network tests run an aiohttp server on loopback and post to
it through ``guarded_connector``: loopback is refused by default, so each refusal is observable as a request that
never arrives, and nothing here needs the internet.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from appinstall.webhooks.ssrf import (
    AddressPolicy,
    BlockedAddressError,
    endpoint_refusal,
    guarded_connector,
    guarded_socket_factory,
    parse_allow_list,
)

pytestmark = pytest.mark.anyio

REFUSED = [
    ("127.0.0.1", "loopback address 127.0.0.1"),
    ("127.9.9.9", "loopback address 127.9.9.9"),
    ("::1", "loopback address ::1"),
    ("0.0.0.0", "unspecified address 0.0.0.0"),  # Linux connects this to the local host
    ("::", "unspecified address ::"),
    ("0.1.2.3", "'this network' address 0.1.2.3"),
    ("10.0.0.1", "private address 10.0.0.1"),
    ("172.16.5.4", "private address 172.16.5.4"),
    ("192.168.1.1", "private address 192.168.1.1"),
    ("fd12:3456::1", "private (unique local) address fd12:3456::1"),
    ("169.254.1.1", "link-local address 169.254.1.1"),
    ("fe80::1", "link-local address fe80::1"),
    ("fe80::1%eth0", "link-local address fe80::1"),
    ("fec0::1", "site-local address fec0::1"),
    ("224.0.0.1", "multicast address 224.0.0.1"),
    ("239.255.255.250", "multicast address 239.255.255.250"),
    ("ff02::1", "multicast address ff02::1"),
    ("ff0e::1", "multicast address ff0e::1"),
    ("255.255.255.255", "broadcast address 255.255.255.255"),
    ("100.64.0.1", "shared (carrier-grade NAT) address 100.64.0.1"),
    ("198.18.0.1", "benchmarking address 198.18.0.1"),
    ("192.0.2.1", "documentation address 192.0.2.1"),
    ("2001:db8::1", "documentation address 2001:db8::1"),
    ("240.0.0.1", "reserved address 240.0.0.1"),
    ("4000::1", "reserved address 4000::1"),
    ("100::1", "discard-only address 100::1"),
    ("192.0.0.8", "IETF protocol assignment address 192.0.0.8"),
]

METADATA = ["169.254.169.254", "169.254.170.2", "100.100.100.200", "168.63.129.16", "fd00:ec2::254"]

PUBLIC = ["8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "2606:4700:4700::1111"]


def teredo(server: str, client: str) -> str:
    """A Teredo address: 2001:0::/32, the server's IPv4, no flags or port, the client's IPv4 bit-inverted."""
    bits = (0x20010000 << 96) | (int(IPv4Address(server)) << 64) | (~int(IPv4Address(client)) & 0xFFFFFFFF)
    return str(IPv6Address(bits))


WRAPPED = [
    ("::ffff:10.0.0.1", "IPv4-mapped address ::ffff:a00:1 embeds private address 10.0.0.1"),
    ("::ffff:127.0.0.1", "IPv4-mapped address ::ffff:7f00:1 embeds loopback address 127.0.0.1"),
    (
        "::ffff:169.254.169.254",
        "IPv4-mapped address ::ffff:a9fe:a9fe embeds cloud metadata address 169.254.169.254 (AWS, GCP, Azure, OCI, "
        "DigitalOcean)",
    ),
    ("::10.0.0.1", "IPv4-compatible address ::a00:1 embeds private address 10.0.0.1"),
    ("64:ff9b::10.0.0.1", "NAT64 address 64:ff9b::a00:1 embeds private address 10.0.0.1"),
    ("64:ff9b::127.0.0.1", "NAT64 address 64:ff9b::7f00:1 embeds loopback address 127.0.0.1"),
    ("64:ff9b:1::10.0.0.1", "NAT64 address 64:ff9b:1::a00:1 embeds private address 10.0.0.1"),
    ("2002:a00:1::1", "6to4 address 2002:a00:1::1 embeds private address 10.0.0.1"),
    (teredo("8.8.8.8", "10.0.0.1"), f"Teredo address {teredo('8.8.8.8', '10.0.0.1')} embeds private address 10.0.0.1"),
]

# Wrappers that are refused as IPv6 addresses even when the IPv4 address they carry is public.
WRAPPERS_REFUSED_AROUND_PUBLIC = [
    ("::8.8.8.8", "IPv4-compatible (deprecated) address ::808:808"),
    ("64:ff9b:1::8.8.8.8", "local-use NAT64 address 64:ff9b:1::808:808"),
    ("2002:808:808::1", "6to4 address 2002:808:808::1"),
    (teredo("8.8.8.8", "1.1.1.1"), f"Teredo address {teredo('8.8.8.8', '1.1.1.1')}"),
]


# --- The address policy --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("address", "reason"), REFUSED)
def test_a_non_global_address_is_refused_with_its_reason(address: str, reason: str) -> None:
    assert AddressPolicy().refusal(ip_address(address)) == reason


@pytest.mark.parametrize("address", METADATA)
def test_a_cloud_metadata_address_is_refused_by_name(address: str) -> None:
    reason = AddressPolicy().refusal(ip_address(address))
    assert reason is not None
    assert reason.startswith(f"cloud metadata address {address} (")


@pytest.mark.parametrize("address", [*PUBLIC, "::ffff:8.8.8.8", "64:ff9b::8.8.8.8"])
def test_a_globally_routable_address_is_admitted(address: str) -> None:
    assert AddressPolicy().refusal(ip_address(address)) is None


@pytest.mark.parametrize(("address", "reason"), WRAPPED)
def test_an_ipv6_wrapper_of_a_refused_ipv4_address_is_refused_for_what_it_carries(address: str, reason: str) -> None:
    assert AddressPolicy().refusal(ip_address(address)) == reason


@pytest.mark.parametrize(("address", "reason"), WRAPPERS_REFUSED_AROUND_PUBLIC)
def test_a_non_global_ipv6_wrapper_is_refused_even_around_a_public_ipv4_address(address: str, reason: str) -> None:
    assert AddressPolicy().refusal(ip_address(address)) == reason


def test_an_allow_list_admits_the_private_network_it_names() -> None:
    policy = AddressPolicy(allow=(IPv4Network("10.1.0.0/16"), IPv6Network("fd12::/16")))
    assert policy.refusal(ip_address("10.1.2.3")) is None
    assert policy.refusal(ip_address("fd12:3456::1")) is None


def test_an_allow_list_admits_nothing_outside_its_networks() -> None:
    policy = AddressPolicy(allow=(IPv4Network("10.1.0.0/16"),))
    assert policy.refusal(ip_address("10.2.0.1")) == "private address 10.2.0.1"


def test_an_allow_listed_ipv4_network_also_admits_its_ipv4_mapped_form() -> None:
    policy = AddressPolicy(allow=(IPv4Network("10.1.0.0/16"),))
    assert policy.refusal(ip_address("::ffff:10.1.2.3")) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"])
def test_dev_mode_admits_loopback(address: str) -> None:
    assert AddressPolicy(allow_loopback=True).refusal(ip_address(address)) is None


@pytest.mark.parametrize("address", ["169.254.169.254", "fd00:ec2::254", "10.0.0.1", "0.0.0.0", "::", "169.254.1.1"])
def test_dev_mode_still_refuses_what_is_not_loopback(address: str) -> None:
    assert AddressPolicy(allow_loopback=True).refusal(ip_address(address)) is not None


def test_dev_mode_with_an_allow_list_admits_both() -> None:
    policy = AddressPolicy(allow=(IPv4Network("192.168.0.0/16"),), allow_loopback=True)
    assert policy.refusal(ip_address("127.0.0.1")) is None
    assert policy.refusal(ip_address("192.168.1.1")) is None


# --- The operator's allow-list -------------------------------------------------------------------------------


def test_parse_allow_list_reads_ipv4_ipv6_and_bare_addresses() -> None:
    assert parse_allow_list(["10.0.0.0/8", " fd00::/8 ", "192.168.1.5"]) == (
        IPv4Network("10.0.0.0/8"),
        IPv6Network("fd00::/8"),
        IPv4Network("192.168.1.5/32"),
    )


@pytest.mark.parametrize("entry", ["10.0.0.1/8", "not-a-network", "", "10.0.0.0/33", "example.com"])
def test_parse_allow_list_names_the_entry_it_cannot_read(entry: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"allow-list entry {entry!r} is not a CIDR network")):
        parse_allow_list(["10.0.0.0/8", entry])


# --- The static endpoint check -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://hooks.example.com/in", "https://203.0.113.9:8443/hook"])
def test_an_https_endpoint_passes_the_static_check(url: str) -> None:
    assert endpoint_refusal(url, dev=False) is None


@pytest.mark.parametrize("url", ["https://2130706433/", "https://127.1/", "https://0x7f.0.0.1/", "https://[::::]/"])
def test_a_stored_endpoint_with_a_non_canonical_ip_host_is_refused_before_connecting(url: str) -> None:
    reason = endpoint_refusal(url, dev=True)
    assert reason is not None
    assert "IPv4 address as" in reason or "invalid IPv6 address" in reason


def test_an_http_endpoint_is_refused_outside_dev_mode() -> None:
    assert endpoint_refusal("http://hooks.example.com/in", dev=False) == "http is allowed only in dev mode; use https"


def test_dev_mode_accepts_an_http_localhost_endpoint() -> None:
    assert endpoint_refusal("http://localhost:8080/hook", dev=True) is None


@pytest.mark.parametrize("url", ["ftp://hooks.example.com/", "file:///etc/passwd", "ws://hooks.example.com/"])
def test_a_scheme_other_than_http_or_https_is_refused_even_in_dev_mode(url: str) -> None:
    reason = endpoint_refusal(url, dev=True)
    assert reason is not None
    assert "is not https" in reason or "no host" in reason


@pytest.mark.parametrize("url", ["https://user:secret@hooks.example.com/", "https://user@hooks.example.com/"])
def test_credentials_in_the_url_are_refused(url: str) -> None:
    reason = endpoint_refusal(url, dev=False)
    assert reason is not None
    assert "credentials" in reason


@pytest.mark.parametrize("url", ["/relative/path", "https:///path", ""])
def test_a_url_without_a_host_is_refused(url: str) -> None:
    assert endpoint_refusal(url, dev=False) == "the URL has no host"


def test_an_unparseable_url_is_refused() -> None:
    reason = endpoint_refusal("https://hooks.example.com:99999/", dev=False)
    assert reason is not None
    assert reason.startswith("not a valid URL")


# --- The socket factory and the connector --------------------------------------------------------------------


def test_the_socket_factory_refuses_a_name_it_would_have_to_resolve() -> None:
    create_socket = guarded_socket_factory(AddressPolicy())
    addr_info = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("public.example", 443))
    with pytest.raises(BlockedAddressError, match="is not a numeric IP address"):
        create_socket(addr_info)


def test_the_socket_factory_creates_a_socket_for_an_admitted_address() -> None:
    create_socket = guarded_socket_factory(AddressPolicy())
    addr_info = (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("8.8.8.8", 443))
    with create_socket(addr_info) as created:
        assert created.family == socket.AF_INET


async def test_guarded_connector_does_not_let_the_socket_factory_be_replaced() -> None:
    with pytest.raises(TypeError, match="socket_factory"):
        guarded_connector(AddressPolicy(), socket_factory=socket.socket)


# --- Real connections on loopback ----------------------------------------------------------------------------


@dataclass
class Receiver:
    """An aiohttp server on one loopback address that records the requests it receives."""

    host: str
    port: int = 0
    received: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"


async def start_receiver(host: str) -> tuple[Receiver, web.AppRunner]:
    receiver = Receiver(host)

    async def hook(request: web.Request) -> web.Response:
        receiver.received.append(await request.text())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, host, 0).start()
    receiver.port = runner.addresses[0][1]
    return receiver, runner


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started, runner = await start_receiver("127.0.0.1")
    yield started
    await runner.cleanup()


class FixedResolver(AbstractResolver):
    """Answers every name with the given (address, port) pairs, as a rebinding DNS server would."""

    def __init__(self, answers: Callable[[int], list[tuple[str, int]]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=address, port=answer_port, family=socket.AF_INET, proto=0, flags=0)
            for address, answer_port in self.answers(port)
        ]

    async def close(self) -> None:
        pass


async def post(url: str, policy: AddressPolicy, resolver: AbstractResolver | None = None) -> int:
    connector = guarded_connector(policy, resolver=resolver) if resolver else guarded_connector(policy)
    async with aiohttp.ClientSession(connector=connector) as session, session.post(url, data="event") as response:
        return response.status


async def test_a_post_to_a_loopback_ip_literal_is_refused_and_never_arrives(receiver: Receiver) -> None:
    with pytest.raises(aiohttp.ClientConnectorError, match=re.escape("loopback address 127.0.0.1")) as raised:
        await post(receiver.url, AddressPolicy())
    assert isinstance(raised.value.os_error, BlockedAddressError)
    assert receiver.received == []


async def test_dev_mode_delivers_to_a_loopback_ip_literal(receiver: Receiver) -> None:
    assert await post(receiver.url, AddressPolicy(allow_loopback=True)) == 204
    assert receiver.received == ["event"]


async def test_an_allow_list_entry_for_loopback_delivers_without_dev_mode(receiver: Receiver) -> None:
    assert await post(receiver.url, AddressPolicy(allow=(IPv4Network("127.0.0.1/32"),))) == 204
    assert receiver.received == ["event"]


async def test_a_name_that_resolves_to_loopback_is_refused(receiver: Receiver) -> None:
    with pytest.raises(aiohttp.ClientConnectorError, match="loopback address"):
        await post(f"http://localhost:{receiver.port}/hook", AddressPolicy())
    assert receiver.received == []


async def test_a_rebinding_answer_for_a_public_name_is_refused_at_connect_time(receiver: Receiver) -> None:
    rebinding = FixedResolver(lambda port: [("127.0.0.1", port)])
    with pytest.raises(aiohttp.ClientConnectorError, match=re.escape("loopback address 127.0.0.1")):
        await post(f"http://public.example:{receiver.port}/hook", AddressPolicy(), rebinding)
    assert receiver.received == []


async def test_of_several_addresses_for_a_name_only_the_admitted_ones_are_connected_to(receiver: Receiver) -> None:
    admitted, runner = await start_receiver("127.0.0.2")
    try:
        answers = FixedResolver(lambda _: [(receiver.host, receiver.port), (admitted.host, admitted.port)])
        policy = AddressPolicy(allow=(IPv4Network("127.0.0.2/32"),))
        assert await post("http://public.example/hook", policy, answers) == 204
    finally:
        await runner.cleanup()
    assert admitted.received == ["event"]
    assert receiver.received == []


async def test_a_redirect_from_an_admitted_address_to_a_refused_one_is_refused(receiver: Receiver) -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(receiver.url)

    app = web.Application()
    app.router.add_post("/hook", redirect)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.2", 0).start()
    port = runner.addresses[0][1]
    try:
        with pytest.raises(aiohttp.ClientConnectorError, match=re.escape("loopback address 127.0.0.1")):
            await post(f"http://127.0.0.2:{port}/hook", AddressPolicy(allow=(IPv4Network("127.0.0.2/32"),)))
    finally:
        await runner.cleanup()
    assert receiver.received == []
