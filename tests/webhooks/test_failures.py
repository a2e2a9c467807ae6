"""The words of a failed request: each kind of failure gets one short, stable error, and the library's own text is
kept beside it. Built from the exceptions aiohttp raises, without a network."""

from __future__ import annotations

import errno
import socket
import ssl
from ipaddress import ip_address

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from appinstall.webhooks.failures import describe
from appinstall.webhooks.ssrf import AddressPolicy, BlockedAddressError

KEY = ConnectionKey("hooks.example.com", 443, True, True, None, None, None)


def _error(failure: BaseException) -> str:
    return describe(failure, timeout=10.0, connect_timeout=5.0).error


def _blocked(address: str) -> BlockedAddressError:
    reason = AddressPolicy().refusal(ip_address(address))  # the guard's own words
    assert reason is not None
    return BlockedAddressError(address, reason)


def _certificate_error(code: int) -> aiohttp.ClientConnectorCertificateError:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_code = code
    return aiohttp.ClientConnectorCertificateError(KEY, cause)


def test_a_timeout_names_the_configured_limit() -> None:
    assert _error(TimeoutError()) == "timed out after 10 s"


def test_a_read_timeout_names_the_configured_limit() -> None:
    assert _error(aiohttp.SocketTimeoutError()) == "timed out after 10 s"


def test_a_connect_timeout_names_the_connect_limit() -> None:
    assert _error(aiohttp.ConnectionTimeoutError()) == "timed out after 5 s connecting"


def test_a_fractional_limit_is_written_as_it_was_set() -> None:
    assert describe(TimeoutError(), timeout=0.5, connect_timeout=5.0).error == "timed out after 0.5 s"


def test_a_refused_connection_is_connection_refused() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('203.0.113.9', 443)")
    assert _error(aiohttp.ClientConnectorError(KEY, refused)) == "connection refused"


def test_every_address_refusing_is_connection_refused() -> None:
    joined = OSError(errno.ECONNREFUSED, "Multiple exceptions: [Errno 111] Connect call failed ('::1', 443), …")
    assert _error(aiohttp.ClientConnectorError(KEY, joined)) == "connection refused"


def test_a_refused_connection_keeps_the_librarys_words_as_the_detail() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('203.0.113.9', 443)")
    failure = describe(aiohttp.ClientConnectorError(KEY, refused), timeout=10.0, connect_timeout=5.0)
    assert failure.detail == (
        "ClientConnectorError: Cannot connect to host hooks.example.com:443 ssl:default "
        "[Connect call failed ('203.0.113.9', 443)]"
    )


def test_a_name_that_does_not_resolve_is_a_dns_failure_naming_the_host() -> None:
    unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    assert _error(aiohttp.ClientConnectorDNSError(KEY, unknown)) == "DNS lookup failed for hooks.example.com"


def test_a_certificate_from_an_unknown_ca_is_not_trusted() -> None:
    assert _error(_certificate_error(20)) == "TLS certificate not trusted"  # unable to get local issuer certificate


def test_an_expired_certificate_says_so() -> None:
    assert _error(_certificate_error(10)) == "TLS certificate expired"


def test_a_certificate_for_another_name_says_whose_it_is_not() -> None:
    assert _error(_certificate_error(62)) == "TLS certificate is not for hooks.example.com"


def test_a_failed_handshake_gives_openssls_reason() -> None:
    cause = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    cause.reason = "WRONG_VERSION_NUMBER"
    assert _error(aiohttp.ClientConnectorSSLError(KEY, cause)) == "TLS handshake failed: wrong version number"


def test_a_loopback_address_blocked_names_dev_mode_and_the_allow_list() -> None:
    assert _error(aiohttp.ClientConnectorError(KEY, _blocked("127.0.0.1"))) == (
        "blocked: loopback address 127.0.0.1 (--dev or APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it)"
    )


def test_a_private_address_blocked_names_the_allow_list() -> None:
    assert _error(aiohttp.ClientConnectorError(KEY, _blocked("10.0.0.5"))) == (
        "blocked: private address 10.0.0.5 (APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it)"
    )


def test_a_metadata_address_blocked_keeps_the_guards_whole_reason() -> None:
    assert _error(aiohttp.ClientConnectorError(KEY, _blocked("169.254.169.254"))) == (
        "blocked: cloud metadata address 169.254.169.254 (AWS, GCP, Azure, OCI, DigitalOcean) "
        "(APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it)"
    )


def test_every_address_of_a_name_blocked_lists_each() -> None:
    # What aiohappyeyeballs raises when every address failed with a different message but the same errno.
    joined = OSError(errno.EACCES, f"Multiple exceptions: {_blocked('::1')}, {_blocked('127.0.0.1')}")
    assert _error(aiohttp.ClientConnectorError(KEY, joined)) == (
        "blocked: loopback address ::1, loopback address 127.0.0.1 (--dev or APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it)"
    )


def test_a_name_with_a_loopback_and_a_private_address_blocked_needs_the_allow_list() -> None:
    joined = OSError(errno.EACCES, f"Multiple exceptions: {_blocked('127.0.0.1')}, {_blocked('192.168.1.2')}")
    assert _error(aiohttp.ClientConnectorError(KEY, joined)).endswith("(APPINSTALL_WEBHOOK_ALLOW_CIDRS admits it)")


def test_a_blocked_address_keeps_the_guards_words_as_the_detail() -> None:
    failure = describe(aiohttp.ClientConnectorError(KEY, _blocked("10.0.0.5")), timeout=10.0, connect_timeout=5.0)
    assert "blocked by the outbound address policy: private address 10.0.0.5" in failure.detail


@pytest.mark.parametrize(
    "failure",
    [ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"), aiohttp.ClientOSError(errno.ECONNRESET, "")],
    ids=["builtin", "aiohttp"],
)
def test_a_reset_is_connection_reset(failure: BaseException) -> None:
    assert _error(failure) == "connection reset"


def test_a_connection_closed_without_an_answer_says_so() -> None:
    assert _error(aiohttp.ServerDisconnectedError()) == "connection closed before an answer"


def test_an_answer_cut_short_says_so() -> None:
    assert _error(aiohttp.ClientPayloadError("Response payload is not completed")) == "answer cut short"


def test_a_url_that_is_not_one_says_so() -> None:
    assert _error(aiohttp.InvalidURL("https://[bad")) == "not a valid URL"


def test_anything_else_names_its_kind() -> None:
    assert _error(aiohttp.ClientError("odd")) == "request failed (ClientError)"
