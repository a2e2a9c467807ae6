"""Installing, reading, changing and removing apps, over the store.

Every change is one transaction that also writes the capability rows used by discovery and an audit event, and
bumps the revision with a compare-and-set (``WHERE revision = :read``), so two writers that read the same
revision cannot both win, on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts import credentials
from appinstall.audit import service as audit
from appinstall.errors import Conflict, Invalid, PreconditionFailed
from appinstall.http.merge_patch import merge_patch
from appinstall.manifest import Manifest, Problem, validate_document
from appinstall.registry.header_values import keep_masked_values, seal_values
from appinstall.registry.models import (
    MAX_OLD_SECRETS,
    SERVER_FIELDS,
    Installation,
    capability_rows,
)
from appinstall.registry.names import name_key
from appinstall.registry.recipients import Target as Target
from appinstall.registry.recipients import manifests as manifests
from appinstall.registry.recipients import subscribers as subscribers
from appinstall.registry.recipients import targets as targets
from appinstall.registry.revisions import ExpectedRevision, check_expected
from appinstall.registry.rows import load
from appinstall.registry.tables import client_secrets, installation_capabilities, installations
from appinstall.store import Store

# --- Reading documents -----------------------------------------------------------------------------------------


def invalid_manifest(problems: list[Problem]) -> Invalid:
    """The refusal of a manifest (or of a body that is not one at all), with every problem located."""
    return Invalid("invalid-manifest", "the manifest is not valid; see errors", problems=problems)


def _split(document: Any, allow_local_http: bool = False) -> tuple[Manifest, dict[str, Any]]:
    """Separate the server's fields from the manifest, and validate the manifest."""
    if not isinstance(document, dict):
        raise invalid_manifest([Problem("", "type", "must be an object")])
    given = {key: document[key] for key in SERVER_FIELDS if key in document}
    problems = []
    if "enabled" in given and not isinstance(given["enabled"], bool):
        problems.append(Problem("/enabled", "type", "must be true or false"))
    result = validate_document(
        {key: value for key, value in document.items() if key not in SERVER_FIELDS}, allow_local_http=allow_local_http
    )
    problems.extend(result.errors)
    if problems or result.manifest is None:
        raise invalid_manifest(problems)
    return result.manifest, given


def _check_server_fields(given: dict[str, Any], current: Installation) -> None:
    """A full object sent back may repeat the server's fields, but not change them."""
    problems = []
    for key in ("id", "client_id"):
        if key in given and given[key] != current.id:
            problems.append(Problem(f"/{key}", "read_only", f"is {current.id!r} and cannot be changed"))
    secret = given.get("client_secret")
    if secret is not None and not (
        isinstance(secret, str)
        and current.client_secret is not None
        and hmac.compare_digest(secret.encode(), current.client_secret.encode())
    ):
        problems.append(
            Problem("/client_secret", "read_only", "cannot be set", "rotate it with POST …/installations/{id}/secret")
        )
    if given.get("deleted") is True and not current.deleted:
        problems.append(Problem("/deleted", "read_only", "cannot be set", "delete with DELETE …/installations/{id}"))
    if problems:
        raise Invalid("read-only-field", "the body changes fields the server owns", problems=problems)


async def _write_capabilities(connection: AsyncConnection, installation_id: str, manifest: dict[str, Any]) -> None:
    await connection.execute(
        delete(installation_capabilities).where(installation_capabilities.c.installation_id == installation_id)
    )
    rows = [{"installation_id": installation_id, "kind": k, "value": v} for k, v in capability_rows(manifest)]
    if rows:
        await connection.execute(insert(installation_capabilities), rows)


async def _audit(
    store: Store,
    connection: AsyncConnection,
    installation: Installation,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
) -> None:
    await connection.run_sync(
        audit.record,
        account_id=installation.account_id,
        installation_id=installation.id,
        actor=actor,
        action=action,
        revision=installation.revision,
        at=store.clock(),
        detail=detail,
    )


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "client-name-taken",
        f"an installation named {name!r} already exists in this account (names are compared ignoring case, "
        "character width and invisible characters)",
        problems=[Problem("/client_name", "not_unique", "is already used by another installation")],
    )


async def _ensure_name_free(
    connection: AsyncConnection, account_id: str, name: str, except_id: str | None = None
) -> None:
    query = select(installations.c.id).where(
        installations.c.account_id == account_id,
        installations.c.client_name_key == name_key(name),
        installations.c.deleted.is_(False),
    )
    if except_id is not None:
        query = query.where(installations.c.id != except_id)
    if (await connection.execute(query)).first() is not None:
        raise _name_taken(name)


# --- Operations ----------------------------------------------------------------------------------------------


async def create(
    store: Store, account_id: str, document: Any, actor: str, *, allow_local_http: bool = False
) -> Installation:
    """Install an app from a manifest ``document`` (parsed JSON): new id, new client secret, revision 1.

    ``allow_local_http`` (development servers) also accepts webhook endpoints on plain http to this machine.
    """
    manifest, given = _split(document, allow_local_http)
    document = manifest.to_document()
    now = store.clock()
    installation = Installation(
        id=str(uuid.uuid4()),
        account_id=account_id,
        manifest=document,
        enabled=given.get("enabled", True),
        deleted=False,
        revision=1,
        client_id_issued_at=now // 1000,
        created_at=now,
        updated_at=now,
        client_secret=credentials.new_client_secret(),
    )
    assert installation.client_secret is not None
    try:
        async with store.transaction() as connection:
            await _ensure_name_free(connection, account_id, manifest.client_name)
            await connection.execute(
                insert(installations).values(
                    id=installation.id,
                    account_id=account_id,
                    client_name=manifest.client_name,
                    client_name_key=name_key(manifest.client_name),
                    manifest=seal_values(document, store.keyring, installation.id),
                    enabled=installation.enabled,
                    deleted=False,
                    revision=1,
                    client_id_issued_at=installation.client_id_issued_at,
                    created_at=now,
                    updated_at=now,
                )
            )
            await connection.execute(
                insert(client_secrets).values(
                    installation_id=installation.id,
                    ciphertext=store.keyring.seal(installation.client_secret, installation.id),
                    created_at=now,
                    expires_at=None,
                )
            )
            await _write_capabilities(connection, installation.id, document)
            await _audit(store, connection, installation, actor, "create")
    except IntegrityError:
        # Two creates with one name raced past the check; the partial unique index stopped the second.
        raise _name_taken(manifest.client_name) from None
    return installation


async def get(
    store: Store,
    account_id: str,
    installation_id: str,
    *,
    include_deleted: bool = True,
    with_secret: bool = True,
    connection: AsyncConnection | None = None,
) -> Installation:
    """One installation; ``with_secret=False`` skips reading and decrypting its secret (``client_secret`` None).

    ``connection``: the request's read connection, when it has one.
    """
    async with store.read(connection) as reader:
        return await load(
            store, reader, account_id, installation_id, include_deleted=include_deleted, with_secret=with_secret
        )


async def _store_change(
    store: Store,
    current: Installation,
    manifest: Manifest,
    enabled: bool,
    actor: str,
    action: str,
) -> Installation:
    document = keep_masked_values(manifest.to_document(), current.manifest)
    now = store.clock()
    changed = sorted(
        {key for key in document.keys() | current.manifest.keys() if document.get(key) != current.manifest.get(key)}
        | ({"enabled"} if enabled != current.enabled else set())
    )
    updated = Installation(
        **{
            **current.__dict__,
            "manifest": document,
            "enabled": enabled,
            "revision": current.revision + 1,
            "updated_at": now,
        }
    )
    try:
        async with store.transaction() as connection:
            await _ensure_name_free(connection, current.account_id, manifest.client_name, except_id=current.id)
            result = await connection.execute(
                update(installations)
                .where(installations.c.id == current.id, installations.c.revision == current.revision)
                .where(installations.c.deleted.is_(False))
                .values(
                    client_name=manifest.client_name,
                    client_name_key=name_key(manifest.client_name),
                    manifest=seal_values(document, store.keyring, current.id),
                    enabled=enabled,
                    revision=updated.revision,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                raise PreconditionFailed(
                    "precondition-failed",
                    "the installation changed while this request ran; read it again",
                )
            await _write_capabilities(connection, current.id, document)
            await _audit(store, connection, updated, actor, action, {"changed": changed})
    except IntegrityError:
        raise _name_taken(manifest.client_name) from None
    return updated


async def replace(
    store: Store,
    account_id: str,
    installation_id: str,
    document: Any,
    expected: ExpectedRevision | None,
    actor: str,
    *,
    allow_local_http: bool = False,
) -> Installation:
    """PUT: ``document`` is the whole object, as the platform's clients send it after a GET; ``expected`` is the
    revision they read (required)."""
    current = await get(store, account_id, installation_id, include_deleted=False)
    check_expected(expected, current.revision)
    manifest, given = _split(document, allow_local_http)
    _check_server_fields(given, current)
    return await _store_change(store, current, manifest, given.get("enabled", current.enabled), actor, "replace")


async def patch(
    store: Store,
    account_id: str,
    installation_id: str,
    patch_document: Any,
    expected: ExpectedRevision | None,
    actor: str,
    *,
    allow_local_http: bool = False,
) -> Installation:
    """PATCH: an RFC 7396 merge patch over the object as GET shows it; ``expected``: the revision read (required)."""
    if not isinstance(patch_document, dict):
        raise invalid_manifest([Problem("", "type", "a merge patch must be an object")])
    current = await get(store, account_id, installation_id, include_deleted=False)
    check_expected(expected, current.revision)
    merged = merge_patch(current.to_wire(show_secret=True), patch_document)
    manifest, given = _split(merged, allow_local_http)
    _check_server_fields(given, current)
    return await _store_change(store, current, manifest, given.get("enabled", current.enabled), actor, "patch")


async def remove(
    store: Store, account_id: str, installation_id: str, expected: ExpectedRevision | None, actor: str
) -> None:
    """Soft delete: the installation stays readable with ``include_deleted`` and its name becomes free.
    ``expected`` (the revision read) is optional for a delete."""
    current = await get(store, account_id, installation_id, include_deleted=False)
    check_expected(expected, current.revision, required=False)
    async with store.transaction() as connection:
        result = await connection.execute(
            update(installations)
            .where(installations.c.id == current.id, installations.c.revision == current.revision)
            .values(deleted=True, enabled=False, revision=current.revision + 1, updated_at=store.clock())
        )
        if result.rowcount == 0:
            raise PreconditionFailed("precondition-failed", "the installation changed while this request ran")
        gone = Installation(**{**current.__dict__, "deleted": True, "revision": current.revision + 1})
        await _audit(store, connection, gone, actor, "delete")


async def rotate_secret(
    store: Store, account_id: str, installation_id: str, grace_seconds: int, actor: str
) -> tuple[Installation, int]:
    """Issue a new client secret; the old one keeps working for ``grace_seconds``. Returns the grace end (ms)."""
    current = await get(store, account_id, installation_id, include_deleted=False)
    secret = credentials.new_client_secret()
    now = store.clock()
    grace_end = now + grace_seconds * 1000
    async with store.transaction() as connection:
        await connection.execute(
            update(client_secrets)
            .where(client_secrets.c.installation_id == current.id, client_secrets.c.expires_at.is_(None))
            .values(expires_at=grace_end)
        )
        await connection.execute(
            delete(client_secrets).where(
                client_secrets.c.installation_id == current.id, client_secrets.c.expires_at <= now
            )
        )
        old_ids = (
            await connection.execute(
                select(client_secrets.c.id)
                .where(client_secrets.c.installation_id == current.id, client_secrets.c.expires_at.is_not(None))
                .order_by(client_secrets.c.id.desc())
            )
        ).scalars()
        surplus = list(old_ids)[MAX_OLD_SECRETS:]
        if surplus:
            await connection.execute(delete(client_secrets).where(client_secrets.c.id.in_(surplus)))
        await connection.execute(
            insert(client_secrets).values(
                installation_id=current.id,
                ciphertext=store.keyring.seal(secret, current.id),
                created_at=now,
                expires_at=None,
            )
        )
        result = await connection.execute(
            update(installations)
            .where(installations.c.id == current.id, installations.c.revision == current.revision)
            .values(revision=current.revision + 1, updated_at=now)
        )
        if result.rowcount == 0:
            raise PreconditionFailed("precondition-failed", "the installation changed while this request ran")
        rotated = Installation(
            **{**current.__dict__, "client_secret": secret, "revision": current.revision + 1, "updated_at": now}
        )
        await _audit(store, connection, rotated, actor, "rotate_secret", {"previous_valid_until": grace_end})
    return rotated, grace_end
