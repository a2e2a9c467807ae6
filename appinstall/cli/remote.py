"""Talking to a running appinstall server: a small typed client, and the plan of what a manifest would change.

The client turns every failure into one of two exceptions the commands can print as a single line: a
``RemoteError`` for an answer that is an error (RFC 9457 problem or otherwise), a ``ServerUnreachable`` when there
is no answer at all. It never puts the bearer key into a message.

``apply_manifest`` acts on the plan of what a manifest would change (``registry.plan.plan_changes``, which the
console's review step shows too), for ``appinstall apply`` and ``appinstall demo``.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Self
from urllib.parse import quote

import httpx

from appinstall.registry.models import SERVER_FIELDS
from appinstall.registry.plan import Change, plan_changes

TIMEOUT_SECONDS: Final = 10.0
_INSTALLATIONS = "/api/account/{account}/configuration/app-install/installations"
_NOTIFICATIONS = "/api/account/{account}/notifications"
_MERGE_PATCH: Final = "application/merge-patch+json"
_MAX_TEXT_DETAIL: Final = 300
_INSTALLATION_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


# --- Errors --------------------------------------------------------------------------------------------------


class RemoteError(Exception):
    """The server answered with an error. ``errors`` are the problem's ``{"pointer", "message", …}`` entries."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: list[dict[str, Any]] | None = None,
        problem: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors = errors or []
        self.problem = problem or {}


class ServerUnreachable(Exception):  # noqa: N818 - reads as a sentence: "except ServerUnreachable"
    """No answer at all: refused, unresolvable, timed out. The message is one line that names the server."""


class UnknownInstallation(Exception):  # noqa: N818 - reads as a sentence: "except UnknownInstallation"
    """No live installation has the name a command was given (an id or client_id is left to the server)."""

    def __init__(self, reference: str) -> None:
        super().__init__(f"no installation is named {reference!r}")
        self.reference = reference


def _problem_error(response: httpx.Response) -> RemoteError:
    """Read an error answer: an RFC 9457 problem when it is one, else its text (a proxy's page, say)."""
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        raw_errors = body.get("errors")
        errors = [item for item in raw_errors if isinstance(item, dict)] if isinstance(raw_errors, list) else []
        return RemoteError(response.status_code, body["detail"], errors, body)
    text = " ".join(response.text.split())
    if len(text) > _MAX_TEXT_DETAIL:
        text = text[: _MAX_TEXT_DETAIL - 1] + "…"
    return RemoteError(response.status_code, text or response.reason_phrase or f"HTTP {response.status_code}")


def _transport_reason(error: httpx.TransportError) -> str:
    """A short lower-case reason such as ``connection refused``, from the OS error underneath when there is one."""
    if isinstance(error, httpx.TimeoutException):
        return f"no answer within {TIMEOUT_SECONDS:g} s"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
            return "connection refused"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    message = str(error).strip()
    if "refused" in message.lower():
        return "connection refused"
    return message.split("] ", 1)[-1].lower() if message else type(error).__name__


# --- The client ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revisioned:
    """An installation as read, with the revision to send back in ``If-Match``."""

    installation: dict[str, Any]
    revision: str


class ServerClient:
    """One server, over HTTP with a bearer key (an admin key or the operator token): requests whose failures are
    ``RemoteError`` or ``ServerUnreachable``, never the key."""

    def __init__(self, server: str, key: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.server = server.rstrip("/")
        self._http = httpx.Client(
            base_url=self.server,
            headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.server!r})"

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, url: str, **options: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **options)
        except httpx.TransportError as error:
            raise ServerUnreachable(f"cannot reach {self.server}: {_transport_reason(error)}") from None
        if response.is_error:
            raise _problem_error(response)
        return response

    @staticmethod
    def _object(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RemoteError(response.status_code, "the server answered with something that is not a JSON object")
        return body


class RegistryClient(ServerClient):
    """The installations of one account on one server, over HTTP with an admin key (or the operator token); and
    publishing notifications to the account, one or a batch at a time."""

    def __init__(self, server: str, key: str, account: str, *, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(server, key, transport=transport)
        self._base = _INSTALLATIONS.format(account=quote(account, safe=""))
        self._notifications = _NOTIFICATIONS.format(account=quote(account, safe=""))

    def __repr__(self) -> str:
        return f"RegistryClient({self.server!r}, {self._base!r})"

    def _path(self, installation_id: str = "", suffix: str = "") -> str:
        return self._base + (f"/{quote(installation_id, safe='')}" if installation_id else "") + suffix

    def _revisioned(self, response: httpx.Response) -> Revisioned:
        revision = response.headers.get("ac-revision") or response.headers.get("etag", "").removeprefix("W/").strip('"')
        if not revision:
            raise RemoteError(response.status_code, "the server did not say the installation's revision (ac-revision)")
        return Revisioned(self._object(response), revision)

    def create(self, manifest: bytes) -> Revisioned:
        """Install from the manifest's own bytes, so the server's errors point into the file as written."""
        response = self._request("POST", self._path(), content=manifest, headers={"Content-Type": "application/json"})
        return self._revisioned(response)

    def installations(self, *, client_name: str | None = None, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every installation matching, following ``Link: rel="next"`` across pages."""
        params: dict[str, str] = {"limit": "500"}
        if client_name is not None:
            params["client_name"] = client_name
        if include_deleted:
            params["include_deleted"] = "true"
        return list(self._pages(params))

    def _pages(self, params: Mapping[str, str]) -> Iterator[dict[str, Any]]:
        response = self._request("GET", self._path(), params=params)
        while True:
            body = response.json()
            if not isinstance(body, list):
                raise RemoteError(response.status_code, "the server answered with something that is not a list")
            yield from (item for item in body if isinstance(item, dict))
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self._request("GET", following)

    def get(self, installation_id: str) -> Revisioned:
        return self._revisioned(self._request("GET", self._path(installation_id)))

    def replace(self, installation_id: str, installation: dict[str, Any], revision: str) -> Revisioned:
        """PUT the whole object; 412 (a ``RemoteError``) when it changed since ``revision`` was read."""
        response = self._request("PUT", self._path(installation_id), json=installation, headers={"If-Match": revision})
        return self._revisioned(response)

    def patch(self, installation_id: str, changes: dict[str, Any], revision: str) -> Revisioned:
        """An RFC 7396 merge patch, guarded by ``If-Match`` like ``replace``."""
        headers = {"If-Match": revision, "Content-Type": _MERGE_PATCH}
        response = self._request("PATCH", self._path(installation_id), json=changes, headers=headers)
        return self._revisioned(response)

    def delete(self, installation_id: str) -> None:
        self._request("DELETE", self._path(installation_id))

    def rotate_secret(self, installation_id: str, grace_seconds: int | None = None) -> dict[str, Any]:
        """A new client secret; the answer also says until when the previous one works."""
        params = {} if grace_seconds is None else {"grace_seconds": str(grace_seconds)}
        return self._object(self._request("POST", self._path(installation_id, "/secret"), params=params))

    def deliveries(self, installation_id: str, params: Mapping[str, str]) -> dict[str, Any]:
        """One page of the installation's deliveries, newest first (``next_cursor`` leads on)."""
        return self._object(self._request("GET", self._path(installation_id, "/deliveries"), params=params))

    def delivery(self, installation_id: str, delivery_id: str) -> dict[str, Any]:
        """One delivery with its attempt log."""
        path = self._path(installation_id, f"/deliveries/{quote(delivery_id, safe='')}")
        return self._object(self._request("GET", path))

    def retry_delivery(self, installation_id: str, delivery_id: str) -> dict[str, Any]:
        path = self._path(installation_id, f"/deliveries/{quote(delivery_id, safe='')}/retry")
        return self._object(self._request("POST", path))

    def webhook_health(self, installation_id: str) -> list[dict[str, Any]]:
        response = self._request("GET", self._path(installation_id, "/webhooks"))
        body = response.json()
        if not isinstance(body, list):
            raise RemoteError(response.status_code, "the server answered with something that is not a list")
        return [item for item in body if isinstance(item, dict)]

    def delivery_state(self, installation_id: str) -> dict[str, Any]:
        """The installation's retry mode and, in retention mode, its state (up, failed, recovering, recovered)."""
        return self._object(self._request("GET", self._path(installation_id, "/webhooks/state")))

    def enable_webhook(self, installation_id: str, event_type: str) -> dict[str, Any]:
        path = self._path(installation_id, f"/webhooks/{quote(event_type, safe='')}/enable")
        return self._object(self._request("POST", path))

    def recover_deliveries(self, installation_id: str, since: str) -> int:
        """Queue again every delivery that failed since ``since``; how many."""
        response = self._request("POST", self._path(installation_id, "/deliveries/recover"), params={"since": since})
        return int(self._object(response).get("requeued", 0))

    def publish(self, notification: dict[str, Any], installation_id: str | None = None) -> list[dict[str, Any]]:
        """Publish a notification to the account (to one installation only, if given); the deliveries created."""
        params = {} if installation_id is None else {"installation_id": installation_id}
        response = self._request("POST", self._notifications, json=notification, params=params)
        deliveries = self._object(response).get("deliveries")
        if not isinstance(deliveries, list):
            raise RemoteError(response.status_code, "the server's answer lists no deliveries")
        return [item for item in deliveries if isinstance(item, dict)]

    def publish_batch(self, notifications: Sequence[Any], installation_id: str | None = None) -> list[list[Any]]:
        """Publish up to 1,000 notifications in one request, all or nothing: per notification, in order, the
        deliveries it made. A refusal's ``errors`` point into the list (``/3/body/changes``)."""
        params = {} if installation_id is None else {"installation_id": installation_id}
        response = self._request("POST", self._notifications + ":batch", json=list(notifications), params=params)
        answered = self._object(response).get("notifications")
        if not isinstance(answered, list) or len(answered) != len(notifications):
            raise RemoteError(response.status_code, "the server's answer does not list each notification's deliveries")
        return [item.get("deliveries") or [] if isinstance(item, dict) else [] for item in answered]


# --- Applying ------------------------------------------------------------------------------------------------


def resolve_installation(registry: RegistryClient, reference: str) -> str:
    """The id of the installation ``reference`` names: its id, its client_id (the same value) or its client_name.

    People remember names, scripts keep ids; every command takes either. A UUID is taken as an id without asking
    (the server says if it does not exist); anything else is looked up as a live installation's name, which the
    server matches ignoring case. Raises ``UnknownInstallation`` when no live installation has that name.
    """
    if _INSTALLATION_ID.fullmatch(reference):
        return reference
    found = registry.installations(client_name=reference)
    if not found:
        raise UnknownInstallation(reference)
    return str(found[0]["id"])


def find_installation(registry: RegistryClient, client_name: str) -> Revisioned | None:
    """The live installation named so (names ignore case on the server), read with its revision."""
    found = registry.installations(client_name=client_name)
    return registry.get(found[0]["id"]) if found else None


def _replacement(installed: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """The whole object to PUT: the server's fields as read (so ``enabled`` is kept) and the new manifest.

    The client secret is left out: the server keeps it when absent, and it need not cross the wire again.
    """
    kept = {key: value for key, value in installed.items() if key in SERVER_FIELDS and key != "client_secret"}
    return {**kept, **document}


@dataclass(frozen=True)
class Applied:
    """What ``apply_manifest`` did: ``action`` is installed, updated or unchanged."""

    action: Literal["installed", "updated", "unchanged"]
    result: Revisioned
    changes: list[Change]


def apply_manifest(registry: RegistryClient, data: bytes, document: dict[str, Any]) -> Applied:
    """Make the installation of the manifest's client_name match it; ``data`` are the manifest's bytes and
    ``document`` its normalised form. Raises ``RemoteError`` and ``ServerUnreachable`` as the client does.

    An update PUTs the whole object with If-Match set to the revision just read, so a change made by someone else
    in between is refused (412) instead of overwritten.
    """
    found = find_installation(registry, document["client_name"])
    if found is None:
        return Applied("installed", registry.create(data), [])
    changes = plan_changes(found.installation, document)
    if not changes:
        return Applied("unchanged", found, [])
    replaced = registry.replace(found.installation["id"], _replacement(found.installation, document), found.revision)
    return Applied("updated", replaced, changes)
