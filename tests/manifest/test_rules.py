import ipaddress
import itertools
import re

import pytest

from appinstall.manifest import rules


@pytest.mark.parametrize("name", ["Host", "content-LENGTH", "Content-Type", "transfer-encoding", "Connection"])
def test_headers_the_platform_sets_are_reserved_in_any_case(name: str) -> None:
    assert rules.is_reserved_header(name)
    assert rules.matches(rules.RESERVED_HEADER_PATTERN, name)


@pytest.mark.parametrize("name", ["X-LivePerson-Signature", "x-liveperson-anything", "Webhook-Id", "WEBHOOK-x"])
def test_reserved_prefixes_cover_every_header_under_them(name: str) -> None:
    assert rules.is_reserved_header(name)
    assert rules.matches(rules.RESERVED_HEADER_PATTERN, name)


@pytest.mark.parametrize("name", ["X-Api-Key", "Hosts", "X-Host", "Authorization", "webhook", "x-liveperson"])
def test_other_headers_are_not_reserved(name: str) -> None:
    assert not rules.is_reserved_header(name)
    assert not rules.matches(rules.RESERVED_HEADER_PATTERN, name)


def test_published_patterns_do_not_accept_a_trailing_newline() -> None:
    assert rules.matches(rules.HEADER_VALUE_PATTERN, "value")
    assert not rules.matches(rules.HEADER_VALUE_PATTERN, "value\n")
    assert not rules.matches(rules.HTTPS_URL_PATTERN, "https://example.com\n")


def test_published_patterns_avoid_python_only_syntax() -> None:
    patterns = [value for name, value in vars(rules).items() if name.endswith("_PATTERN")]
    for pattern in patterns:
        assert "(?i" not in pattern and "\\Z" not in pattern and "(?P<" not in pattern
        assert not re.search(r"(?<!\\)\$", pattern.replace("[!#$%", "")), pattern


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://example.com", "starts with https://"),
        ("https://user:pw@example.com/", "user information"),
        ("https://exa mple.com/", "spaces"),
        ("https://", "name a host"),
        ("https://example.com:99999/", "invalid host or port"),
        ("https://[C]/", "invalid IPv6 address in brackets: '[C]'"),
        ("https://[::::]/", "invalid IPv6 address"),
        ("https://[1.2.3.4]/", "an IPv4 address goes without brackets"),
        ("https://2130706433/", "without leading zeros (here 127.0.0.1)"),
        ("https://127.1/", "(here 127.0.0.1)"),
        ("https://0x7f.0.0.1:8443/", "(here 127.0.0.1)"),
        ("https://0177.0.0.1/", "(here 127.0.0.1)"),
        ("https://127.0.0.01/", "IPv4 address as '127.0.0.01'"),
        ("https://1.2.3.256/", "IPv4 address as '1.2.3.256'"),
        ("https://example.123/", "IPv4 address as 'example.123'"),
    ],
)
def test_a_bad_endpoint_is_described_in_words(url: str, complaint: str) -> None:
    assert not rules.matches(rules.HTTPS_URL_PATTERN, url)
    assert complaint in rules.describe_bad_https_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://your/webhooks/endpoint",
        "https://a.example:8443/x?y=1#z",
        "https://[2001:db8::1]/hook",
        "https://h.",
        "https://203.0.113.9/",
        "https://255.255.255.255:1/",
        "https://123.example.com/",
        "https://[::ffff:192.0.2.1]/",
        "https://[1:2:3:4:5:6:7:8]/",
    ],
)
def test_https_urls_with_a_host_are_accepted(url: str) -> None:
    assert rules.matches(rules.HTTPS_URL_PATTERN, url)


def test_the_ipv6_pattern_agrees_with_the_standard_library_on_many_spellings() -> None:
    pieces = ["", "0", "1", "ffff", "12345", "a:b", "192.0.2.1", "01.2.3.4", "::", ":", "g"]
    spellings = {":".join(combination) for combination in itertools.product(pieces, repeat=4)}
    spellings |= {str(ipaddress.IPv6Address(n << shift)) for n in (1, 0xFFFF, 0xDEADBEEF) for shift in range(0, 97, 16)}
    for spelling in spellings:
        try:
            ipaddress.IPv6Address(spelling)
            valid = True
        except ValueError:
            valid = False
        assert rules.matches(rules.HTTPS_URL_PATTERN, f"https://[{spelling}]/") is valid, spelling
