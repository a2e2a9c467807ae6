"""The source address: the peer's, or what trusted proxies appended to X-Forwarded-For, never a client's claim."""

from __future__ import annotations

import pytest

from appinstall.http.client_address import client_address, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert client_address("10.0.0.1", "203.0.113.5", ()) == "10.0.0.1"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_source_whatever_it_claims() -> None:
    assert client_address("192.0.2.66", "203.0.113.5", PROXIES) == "192.0.2.66"


def test_a_trusted_proxy_names_the_client() -> None:
    assert client_address("10.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"


def test_hops_are_read_from_the_nearest_past_every_trusted_proxy() -> None:
    assert client_address("10.0.0.1", "198.51.100.1, 203.0.113.5, 10.9.9.9", PROXIES) == "203.0.113.5"


def test_a_trusted_proxy_without_the_header_is_the_source() -> None:
    assert client_address("10.0.0.1", None, PROXIES) == "10.0.0.1"


def test_when_every_hop_is_trusted_the_farthest_is_the_source() -> None:
    assert client_address("10.0.0.1", "10.0.0.3, 10.0.0.2", PROXIES) == "10.0.0.3"


def test_addresses_are_written_canonically() -> None:
    assert client_address("fd00::1", "[2001:DB8::0001]", PROXIES) == "2001:db8::1"
    assert client_address("::ffff:10.0.0.1", "::ffff:203.0.113.5", PROXIES) == "203.0.113.5"


def test_a_hop_that_is_not_an_address_is_kept_short() -> None:
    assert client_address("10.0.0.1", "x" * 500, PROXIES) == "x" * 64


def test_no_peer_is_no_address() -> None:
    assert client_address(None, "203.0.113.5", PROXIES) is None


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.example", ""])
def test_a_bad_network_is_named(value: str) -> None:
    with pytest.raises(ValueError, match=repr(value)):
        parse_networks([value])
