"""The headers of a webhook request: the manifest's own, without any the platform or the connection owns."""

from __future__ import annotations

from appinstall.webhooks.request import request_headers


def _headers(custom: dict[str, str]) -> dict[str, str]:
    return request_headers(
        custom,
        account_id="123",
        client_id="c",
        secrets=["s"],
        message_id="msg_1",
        timestamp=1_700_000_000,
        body=b"{}",
        attempt=1,
    )


def test_a_stored_hop_by_hop_or_reserved_header_is_not_sent() -> None:
    sent = _headers({"Expect": "100-continue", "connection": "upgrade", "Proxy-Authorization": "x", "X-Api": "k"})
    names = {name.lower() for name in sent}
    assert not names & {"expect", "connection", "proxy-authorization"}
    assert sent["X-Api"] == "k"


def test_a_stored_content_type_in_other_case_does_not_duplicate_the_platforms() -> None:
    sent = _headers({"content-type": "text/plain"})
    assert [name for name in sent if name.lower() == "content-type"] == ["Content-Type"]
    assert sent["Content-Type"] == "application/json"
