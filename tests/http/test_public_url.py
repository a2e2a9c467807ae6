"""Which Host headers may name this server in discovery and OAuth metadata, without I/O."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from appinstall.http.public_url import host_allowed, split_host
from appinstall.settings import Settings


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("api.example.com", ("api.example.com", None)),
        ("API.Example.com:8443", ("api.example.com", "8443")),
        ("[::1]:8080", ("[::1]", "8080")),
        ("[::1]", ("[::1]", None)),
    ],
)
def test_a_host_is_split_from_its_port(value: str, parts: tuple[str, str | None]) -> None:
    assert split_host(value) == parts


def test_a_listed_host_without_a_port_allows_any_port() -> None:
    assert host_allowed("api.example.com:8443", ["api.example.com"], dev=False)
    assert host_allowed("API.EXAMPLE.COM", ["api.example.com"], dev=False)


def test_a_listed_host_with_a_port_allows_that_port_only() -> None:
    assert host_allowed("api.example.com:8443", ["api.example.com:8443"], dev=False)
    assert not host_allowed("api.example.com:9000", ["api.example.com:8443"], dev=False)
    assert not host_allowed("api.example.com", ["api.example.com:8443"], dev=False)


def test_a_name_that_only_ends_like_a_listed_one_is_refused() -> None:
    assert not host_allowed("evilapi.example.com", ["api.example.com"], dev=False)
    assert not host_allowed("api.example.com.attacker.example", ["api.example.com"], dev=False)


@pytest.mark.parametrize("host", ["localhost:8080", "127.0.0.1:8080", "127.3.4.5", "[::1]:8080"])
def test_loopback_hosts_are_allowed_in_dev_mode_only(host: str) -> None:
    assert host_allowed(host, [], dev=True)
    assert not host_allowed(host, [], dev=False)


@pytest.mark.parametrize("host", ["", "attacker.example", "10.0.0.1:8080", "localhost.attacker.example"])
def test_other_hosts_are_refused_even_in_dev_mode(host: str) -> None:
    assert not host_allowed(host, [], dev=True)


@pytest.mark.parametrize("entry", ["https://api.example.com", "api.example.com/path", "", "a.example, b.example"])
def test_an_allowed_host_with_a_scheme_path_or_list_is_a_configuration_error(entry: str) -> None:
    with pytest.raises(ValidationError, match="is not a host or host:port"):
        Settings(allowed_hosts=[entry])


def test_a_trusted_proxy_that_is_not_a_network_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="not a CIDR network"):
        Settings(trusted_proxies=["proxy.example"])
