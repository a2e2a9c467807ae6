"""Installing, reading, changing and removing apps, over the store.

Every change is one transaction that also writes the capability rows used by discovery and an audit event, and
bumps the revision with a compare-and-set (``WHERE revision = :read``), so two writers that read the same
revision cannot both win, on SQLite or on PostgreSQL.
"""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.accounts import credentials
from appinstall.http.conditional import require_match
from appinstall.http.merge_patch import merge_patch
from appinstall.http.problems import ProblemError
from appinstall.manifest import Manifest, Problem, validate_document
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.registry.models import (
    MAX_OLD_SECRETS,
    SERVER_FIELDS,
    Installation,
    InstallationFilter,
    Page,
    capability_rows,
)
from appinstall.store import Store
from appinstall.store.tables import audit_events, client_secrets, installation_capabilities, installations

# --- Reading request bodies ----------------------------------------------------------------------------------


def _invalid(problems: list[Problem]) -> ProblemError:
    return ProblemError(400, "invalid-manifest", "the manifest is not valid; see errors", errors=problems)


def _parse(body: bytes) -> Any:
    try:
        return parse_document(body)
    except DocumentError as error:
        raise _invalid(error.problems) from None


def _split(document: Any, allow_local_http: bool = False) -> tuple[Manifest, dict[str, Any]]:
    """Separate the server's fields from the manifest, and validate the manifest."""
    if not isinstance(document, dict):
        raise _invalid([Problem("", "type", "must be an object")])
    given = {key: document[key] for key in SERVER_FIELDS if key in document}
    problems = []
    if "enabled" in given and not isinstance(given["enabled"], bool):
        problems.append(Problem("/enabled", "type", "must be true or false"))
    result = validate_document(
        {key: value for key, value in document.items() if key not in SERVER_FIELDS}, allow_local_http=allow_local_http
    )
    problems.extend(result.errors)
    if problems or result.manifest is None:
        raise _invalid(problems)
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
        raise ProblemError(400, "read-only-field", "the body changes fields the server owns", errors=problems)


# --- Rows ----------------------------------------------------------------------------------------------------


def _installation(row: Any, secret: str | None = None) -> Installation:
    return Installation(
        id=row.id,
        account_id=row.account_id,
        manifest=row.manifest,
        enabled=row.enabled,
        deleted=row.deleted,
        revision=row.revision,
        client_id_issued_at=row.client_id_issued_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        client_secret=secret,
    )


async def _current_secrets(store: Store, connection: AsyncConnection, ids: list[str]) -> dict[str, str]:
    """The current secrets of many installations in one query (a page of a list)."""
    if not ids:
        return {}
    rows = await connection.execute(
        select(client_secrets.c.installation_id, client_secrets.c.ciphertext)
        .where(client_secrets.c.installation_id.in_(ids), client_secrets.c.expires_at.is_(None))
        .order_by(client_secrets.c.id)
    )
    return {row.installation_id: store.keyring.open(row.ciphertext, row.installation_id) for row in rows}


async def _load(
    store: Store,
    connection: AsyncConnection,
    account_id: str,
    installation_id: str,
    *,
    include_deleted: bool,
    with_secret: bool = True,
) -> Installation:
    """One installation, with its current secret joined in (one statement) unless ``with_secret`` is False."""
    where = (installations.c.id == installation_id, installations.c.account_id == account_id)
    if with_secret:
        current = and_(client_secrets.c.installation_id == installations.c.id, client_secrets.c.expires_at.is_(None))
        query = (
            select(installations, client_secrets.c.ciphertext)
            .select_from(installations.outerjoin(client_secrets, current))
            .where(*where)
            .order_by(client_secrets.c.id.desc())
            .limit(1)
        )
    else:
        query = select(installations).where(*where)
    row = (await connection.execute(query)).first()
    if row is None or (row.deleted and not include_deleted):
        raise ProblemError(404, "installation-not-found", f"there is no installation {installation_id!r}")
    ciphertext = row.ciphertext if with_secret else None
    secret = None if ciphertext is None else store.keyring.open(ciphertext, installation_id)
    return _installation(row, secret)


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
    await connection.execute(
        insert(audit_events).values(
            account_id=installation.account_id,
            installation_id=installation.id,
            actor=actor,
            action=action,
            revision=installation.revision,
            at=store.clock(),
            detail=detail,
        )
    )


def _name_taken(name: str) -> ProblemError:
    return ProblemError(
        409,
        "client-name-taken",
        f"an installation named {name!r} already exists in this account (names ignore case)",
        errors=[Problem("/client_name", "not_unique", "is already used by another installation")],
    )


async def _ensure_name_free(
    connection: AsyncConnection, account_id: str, name: str, except_id: str | None = None
) -> None:
    query = select(installations.c.id).where(
        installations.c.account_id == account_id,
        installations.c.client_name_key == name.lower(),
        installations.c.deleted.is_(False),
    )
    if except_id is not None:
        query = query.where(installations.c.id != except_id)
    if (await connection.execute(query)).first() is not None:
        raise _name_taken(name)


# --- Operations ----------------------------------------------------------------------------------------------


async def create(
    store: Store, account_id: str, body: bytes, actor: str, *, allow_local_http: bool = False
) -> Installation:
    """Install an app from a manifest: new id, new client secret, revision 1.

    ``allow_local_http`` (development servers) also accepts webhook endpoints on plain http to this machine.
    """
    manifest, given = _split(_parse(body), allow_local_http)
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
                    client_name_key=manifest.client_name.lower(),
                    manifest=document,
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
        return await _load(
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
    document = manifest.to_document()
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
                    client_name_key=manifest.client_name.lower(),
                    manifest=document,
                    enabled=enabled,
                    revision=updated.revision,
                    updated_at=now,
                )
            )
            if result.rowcount == 0:
                raise ProblemError(
                    412,
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
    body: bytes,
    if_match: str | None,
    actor: str,
    *,
    allow_local_http: bool = False,
) -> Installation:
    """PUT: the body is the whole object, as the platform's clients send it after a GET."""
    document = _parse(body)
    current = await get(store, account_id, installation_id, include_deleted=False)
    require_match(if_match, current.revision)
    manifest, given = _split(document, allow_local_http)
    _check_server_fields(given, current)
    return await _store_change(store, current, manifest, given.get("enabled", current.enabled), actor, "replace")


async def patch(
    store: Store,
    account_id: str,
    installation_id: str,
    body: bytes,
    if_match: str | None,
    actor: str,
    *,
    allow_local_http: bool = False,
) -> Installation:
    """PATCH: an RFC 7396 merge patch over the object as GET shows it."""
    patch_document = _parse(body)
    if not isinstance(patch_document, dict):
        raise _invalid([Problem("", "type", "a merge patch must be an object")])
    current = await get(store, account_id, installation_id, include_deleted=False)
    require_match(if_match, current.revision)
    merged = merge_patch(current.to_wire(show_secret=True), patch_document)
    manifest, given = _split(merged, allow_local_http)
    _check_server_fields(given, current)
    return await _store_change(store, current, manifest, given.get("enabled", current.enabled), actor, "patch")


async def remove(store: Store, account_id: str, installation_id: str, if_match: str | None, actor: str) -> None:
    """Soft delete: the installation stays readable with ``include_deleted`` and its name becomes free."""
    current = await get(store, account_id, installation_id, include_deleted=False)
    require_match(if_match, current.revision, required=False)
    async with store.transaction() as connection:
        result = await connection.execute(
            update(installations)
            .where(installations.c.id == current.id, installations.c.revision == current.revision)
            .values(deleted=True, enabled=False, revision=current.revision + 1, updated_at=store.clock())
        )
        if result.rowcount == 0:
            raise ProblemError(412, "precondition-failed", "the installation changed while this request ran")
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
            raise ProblemError(412, "precondition-failed", "the installation changed while this request ran")
        rotated = Installation(
            **{**current.__dict__, "client_secret": secret, "revision": current.revision + 1, "updated_at": now}
        )
        await _audit(store, connection, rotated, actor, "rotate_secret", {"previous_valid_until": grace_end})
    return rotated, grace_end


@dataclass(frozen=True)
class ClientRecord:
    """What client authentication reads about one client id, in one statement.

    ``row`` is the installation (None when there is none), ``secrets`` its sealed secrets with their grace ends
    (None for the current one), and ``flag`` the value of the caller's extra condition, read in the same statement
    (None when no condition was given or no installation matched, since then no row carried it).
    """

    client_id: str
    row: Any | None
    secrets: tuple[tuple[bytes, int | None], ...]
    flag: bool | None


def client_query(condition: ColumnElement[bool] | None = None) -> Select[Any]:
    """The statement that reads the installation ``:client_id`` with every secret of it, joined.

    ``condition`` (a caller's extra check, with bind parameters of its own) is evaluated in the same statement,
    as the column ``flag``. Build it once and keep it: a statement built once has its cache key computed once.
    """
    columns: list[Any] = [installations, client_secrets.c.ciphertext, client_secrets.c.expires_at]
    if condition is not None:
        columns.append(condition.label("flag"))
    return (
        select(*columns)
        .select_from(installations.outerjoin(client_secrets, client_secrets.c.installation_id == installations.c.id))
        .where(installations.c.id == bindparam("client_id"))
    )


_CLIENT = client_query()


def client_record(client_id: str, rows: Sequence[Any], *, with_flag: bool = False) -> ClientRecord:
    """What ``client_query``'s rows say of ``client_id``."""
    if not rows:
        return ClientRecord(client_id, None, (), None)
    return ClientRecord(
        client_id,
        rows[0],
        tuple((row.ciphertext, row.expires_at) for row in rows if row.ciphertext is not None),
        bool(rows[0].flag) if with_flag else None,
    )


def match_client_secret(store: Store, record: ClientRecord, secret: str) -> Installation | None:
    """The installation whose current, or still-in-grace, secret this is; None otherwise.

    Every candidate is compared in constant time, and all of them are compared, so the answer's timing says
    nothing about which secret (if any) came close.
    """
    if record.row is None:
        return None
    now = store.clock()
    matched = False
    current = None
    for ciphertext, expires_at in record.secrets:
        candidate = store.keyring.open(ciphertext, record.client_id)
        if expires_at is None:
            current = candidate
        live = expires_at is None or expires_at > now
        matched |= hmac.compare_digest(candidate.encode(), secret.encode()) and live
    return _installation(record.row, current) if matched else None


async def verify_client_secret(store: Store, client_id: str, secret: str) -> Installation | None:
    """The installation whose current, or still-in-grace, secret this is; None otherwise (one read, then a match)."""
    rows = await store.fetch_all(_CLIENT, {"client_id": client_id})
    return match_client_secret(store, client_record(client_id, rows), secret)


# --- Lists and discovery -------------------------------------------------------------------------------------


def _encode_cursor(installation: Installation) -> str:
    raw = json.dumps([installation.created_at, installation.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, installation_id = json.loads(raw)
        if not isinstance(created_at, int) or not isinstance(installation_id, str):
            raise ValueError
    except (ValueError, TypeError):
        raise ProblemError(400, "invalid-cursor", "the cursor is not one this server gave out") from None
    return created_at, installation_id


async def search(
    store: Store,
    account_id: str | None,
    criteria: InstallationFilter,
    cursor: str | None,
    limit: int,
    *,
    connection: AsyncConnection | None = None,
) -> Page:
    """Installations of one account (or, for the operator, of all) matching ``criteria``, oldest first."""
    query = select(installations)
    if account_id is not None:
        query = query.where(installations.c.account_id == account_id)
    if not criteria.include_deleted:
        query = query.where(installations.c.deleted.is_(False))
    if criteria.enabled is not None:
        query = query.where(installations.c.enabled.is_(criteria.enabled))
    if criteria.client_name is not None:
        query = query.where(installations.c.client_name_key == criteria.client_name.strip().lower())
    for kind, value in criteria.capability_pairs():
        query = query.where(
            exists().where(
                and_(
                    installation_capabilities.c.installation_id == installations.c.id,
                    installation_capabilities.c.kind == kind,
                    installation_capabilities.c.value == value,
                )
            )
        )
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        query = query.where(
            (installations.c.created_at > created_at)
            | ((installations.c.created_at == created_at) & (installations.c.id > last_id))
        )
    query = query.order_by(installations.c.created_at, installations.c.id).limit(limit + 1)
    async with store.read(connection) as reader:
        rows = (await reader.execute(query)).all()
        secrets = await _current_secrets(store, reader, [row.id for row in rows[:limit]])
        items = [_installation(row, secrets.get(row.id)) for row in rows[:limit]]
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return Page(items, next_cursor)


async def history(
    store: Store, account_id: str, installation_id: str, *, connection: AsyncConnection | None = None
) -> list[dict[str, Any]]:
    """The audit trail of one installation, oldest first."""
    async with store.read(connection) as reader:
        await _load(store, reader, account_id, installation_id, include_deleted=True, with_secret=False)
        rows = await reader.execute(
            select(audit_events)
            .where(audit_events.c.installation_id == installation_id, audit_events.c.account_id == account_id)
            .order_by(audit_events.c.id)
        )
        return [
            {"at": row.at, "actor": row.actor, "action": row.action, "revision": row.revision, "detail": row.detail}
            for row in rows
        ]
