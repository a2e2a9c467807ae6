from ipaddress import ip_address

import pytest

from appinstall.manifest import endpoints
from appinstall.webhooks.ssrf import AddressPolicy


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://localhost/hook", "loopback"),
        ("https://LOCALHOST:8443/hook", "loopback"),
        ("https://app.localhost/hook", "loopback"),
        ("https://127.0.0.1/hook", "loopback"),
        ("https://[::1]:8443/hook", "loopback"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://2130706433/hook", "loopback"),
        ("https://10.1.2.3/hook", "private-network"),
        ("https://192.168.0.10?x=1", "private-network"),
        ("https://[fd00::1]/hook", "private-network"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[fe80::1]/hook", "link-local"),
        ("https://100.64.0.1/hook", "non-public"),
        ("http://127.0.0.1:9000/hook", "loopback"),
    ],
)
def test_an_endpoint_naming_a_local_address_is_classified(url: str, kind: str) -> None:
    assert endpoints.address_class(url) == kind


@pytest.mark.parametrize(
    "url", ["https://example.com/hook", "https://93.184.216.34/", "https://[2606:4700::1111]/", "https://10.example/"]
)
def test_a_public_address_or_a_host_name_is_not_classified(url: str) -> None:
    assert endpoints.address_class(url) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.1.1",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",
        "0.0.0.0",
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700::1111",
        "::ffff:10.0.0.1",
    ],
)
def test_the_warning_agrees_with_the_delivery_guard_on_every_address_class(address: str) -> None:
    host = f"[{address}]" if ":" in address else address
    warned = endpoints.refusal_warning(f"https://{host}/hook", dev=False) is not None
    assert warned == (AddressPolicy().refusal(ip_address(address)) is not None)


def test_a_loopback_endpoint_is_not_worth_a_warning_in_development() -> None:
    assert endpoints.refusal_warning("https://localhost/hook", dev=True) is None


def test_a_private_endpoint_is_still_worth_a_warning_in_development() -> None:
    warning = endpoints.refusal_warning("https://10.0.0.5/hook", dev=True)
    assert warning is not None and "APPINSTALL_WEBHOOK_ALLOW_CIDRS" in warning[0]
