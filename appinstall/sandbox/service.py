"""Domain discovery (the platform's CSDS): every service a connector looks up lives on this server."""

from __future__ import annotations

from urllib.parse import urlsplit

from appinstall.accounts.service import get_account
from appinstall.sandbox.models import DISCOVERABLE_SERVICES, BaseUri, Discovery
from appinstall.store import Store


def host_of(base_url: str) -> str:
    """``host[:port]`` of a base URL: the platform's discovery answers carry no scheme."""
    parts = urlsplit(base_url)
    return parts.netloc or parts.path.rstrip("/")


async def discover(store: Store, account_id: str, base_url: str) -> Discovery:
    """Where each service of the account lives: here. An unknown account is a 404, as on the platform."""
    await get_account(store, account_id)
    host = host_of(base_url)
    return Discovery(
        baseURIs=[BaseUri(service=service, account=account_id, baseURI=host) for service in DISCOVERABLE_SERVICES]
    )
