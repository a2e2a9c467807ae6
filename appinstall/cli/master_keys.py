"""``appinstall db reencrypt`` and ``appinstall db recover-lost-key``: finishing a master-key rotation, and the
way forward when a master key is lost (docs/operations.md, "Rotating the master key" and "Losing the master key").
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer

from appinstall.cli.confirm import YesOption, confirm
from appinstall.cli.startup_errors import load_settings, with_store
from appinstall.registry.reseal import DroppedHeader, drop_unreadable_header_values, reseal_header_values
from appinstall.registry.secret_reset import ResetSecret, reset_unreadable_secrets
from appinstall.store import Store
from appinstall.store.keyring import key_label
from appinstall.store.sealed import Census, census, describe, missing_keys, reseal
from appinstall.tokens.keys import replace_unopenable_keys

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Store URL (default: APPINSTALL_DATABASE_URL or SQLite).")
]


def _ordinal(number: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(number, f"{number}th")


def reencrypt(database_url: DatabaseOption = None) -> None:
    """Re-seal everything an older master key sealed (client secrets, signing keys, webhook header values) with the
    first key, then report what each configured key still seals. Safe to run again, and while servers run."""
    settings = load_settings(database_url=database_url)

    async def work(store: Store) -> tuple[Counter[str], int, Census, tuple[bytes, ...]]:
        resealed = await reseal(store)
        headers = await reseal_header_values(store)
        return resealed, headers, await census(store), store.keyring.key_ids

    resealed, headers, found, key_ids = with_store(settings, work, missing_keys_ok=True)
    first = key_label(key_ids[0])
    if resealed:
        typer.echo(f"re-encrypted {describe(resealed)} with the first master key ({first})")
    else:
        typer.echo(f"re-encrypted nothing: everything readable was sealed by the first master key ({first}) already")
    if headers:
        typer.echo(f"re-encrypted the webhook header values of {headers} installation(s)")
    for number, key_id in enumerate(key_ids, start=1):
        counts = found.get(key_id, Counter())
        removable = "" if counts or number == 1 else ": it can be removed"
        typer.echo(f"master key {key_label(key_id)} ({_ordinal(number)}) seals {describe(counts)}{removable}")
    lost = missing_keys(found, key_ids)
    for key_id, counts in lost.items():
        typer.echo(
            f"error: master key {key_label(key_id)}, which is not configured, still seals {describe(counts)}: add it "
            "after the first key and run this again; if it is lost, run `appinstall db recover-lost-key`",
            err=True,
        )
    if lost:
        raise typer.Exit(1)


def recover_lost_key(
    database_url: DatabaseOption = None,
    yes: YesOption = False,
) -> None:
    """After losing a master key: new signing keys, and a new client secret for each installation whose secret
    it sealed (printed once: account, installation, secret); everything else is kept."""
    settings = load_settings(database_url=database_url)
    confirm(
        "Replace them?",
        "signing keys and client secrets sealed by a master key that is not configured are replaced: tokens they "
        "signed stop verifying, and each installation concerned gets a new client secret its owner must be given",
        yes=yes,
    )

    async def work(store: Store) -> tuple[Census, int, list[ResetSecret], list[DroppedHeader]]:
        lost = missing_keys(await census(store), store.keyring.key_ids)
        replaced = await replace_unopenable_keys(store, settings.signing_algorithm)
        issued = await reset_unreadable_secrets(store)
        return lost, replaced, issued, await drop_unreadable_header_values(store)

    lost, replaced, issued, dropped = with_store(settings, work, recovering=True)
    if not lost:
        typer.echo("nothing to recover: the configured master keys open everything the store holds", err=True)
    for key_id, counts in lost.items():
        typer.echo(f"master key {key_label(key_id)} was missing; it sealed {describe(counts)}", err=True)
    typer.echo(f"replaced {replaced} signing key(s); a new one signs from now", err=True)
    for header in dropped:
        typer.echo(
            f"dropped the unreadable value of webhook header {header.header_name!r} ({header.event_type}) of "
            f"installation {header.installation_id} (account {header.account_id}): its owner must set it again",
            err=True,
        )
    typer.echo(
        f"reset the client secret of {len(issued)} installation(s); each is shown only now "
        "(account, installation, new client secret), give it to the installation's owner:",
        err=True,
    )
    for reset in issued:
        typer.echo(f"{reset.account_id}\t{reset.installation_id}\t{reset.client_secret}")
