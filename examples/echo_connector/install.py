"""Finding the platform's services, and installing the connector from its manifest, idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx


class PlatformError(RuntimeError):
    """The server refused a request; the message carries its own explanation."""


def check(response: httpx.Response, *expected: int) -> Any:
    """The JSON of an expected answer, or a ``PlatformError`` that says what the server said."""
    if response.status_code in expected:
        return response.json()
    raise PlatformError(
        f"{response.request.method} {response.request.url.path}: HTTP {response.status_code} {response.text}"
    )


async def discover(http: httpx.AsyncClient, server: str, account: str) -> dict[str, str]:
    """The base URL of each of the account's services, from domain discovery (the platform's CSDS).

    On the platform each service has its own host, and only this first URL is fixed; appinstall names itself for
    all of them. The answers are ``host:port`` without a scheme: the scheme is the server's (https on the platform).
    """
    response = await http.get(f"{server}/api/account/{account}/service/baseURI.json", params={"version": "1.0"})
    scheme = urlsplit(server).scheme
    return {entry["service"]: f"{scheme}://{entry['baseURI']}" for entry in check(response, 200)["baseURIs"]}


@dataclass(frozen=True)
class Credentials:
    client_id: str  # the installation's id too
    client_secret: str  # gets AppJWTs, and signs the webhooks this connector receives


async def install(
    http: httpx.AsyncClient, registry: str, account: str, admin_key: str, manifest: dict[str, Any]
) -> Credentials:
    """Install the app, or bring the installed one up to date with ``manifest``: running twice is harmless.

    The app is found by its ``client_name`` (unique in an account). Replacing it keeps its id and its client
    secret; ``If-Match`` carries the revision just read, so two deployments at once cannot overwrite each other.
    """
    installations = f"{registry}/api/account/{account}/configuration/app-install/installations"
    admin = {"Authorization": f"Bearer {admin_key}"}
    found = check(await http.get(installations, params={"client_name": manifest["client_name"]}, headers=admin), 200)
    if not found:
        created = await http.post(installations, params={"v": "1.0"}, json=manifest, headers=admin)
        installation = check(created, 201)
    else:
        url = f"{installations}/{found[0]['id']}"
        current = await http.get(url, params={"v": "1.0"}, headers=admin)
        check(current, 200)
        replaced = await http.put(
            url, params={"v": "1.0"}, json=manifest, headers={**admin, "If-Match": current.headers["ac-revision"]}
        )
        installation = check(replaced, 200)
    if "client_secret" not in installation:
        # A server with APPINSTALL_MASK_CLIENT_SECRET shows the secret only when it creates or rotates it.
        raise PlatformError("the server hides client secrets: keep the one from the first install, or rotate it")
    return Credentials(installation["client_id"], installation["client_secret"])
