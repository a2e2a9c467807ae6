"""Opening the store at start: the master keys, the schema, and whether the keys open what the store sealed.

Every process that opens the store (``serve``, ``worker``, and the commands that work on the store) runs the same
check, so a key removed too early stops each of them at start with one line saying which key sealed what, rather
than letting the worker run while the token endpoint fails, or failing later, request by request. A missing
master key file is made anew only for a store that holds nothing sealed: made beside sealed data it would hide
the loss of the old key.
"""

from __future__ import annotations

from collections import Counter

from appinstall.settings import Settings
from appinstall.store.dialect import create_engine
from appinstall.store.engine import is_sqlite
from appinstall.store.keyring import Keyring, KeyringError, generate_key, key_label
from appinstall.store.migrate import upgrade
from appinstall.store.sealed import Census, census, describe, missing_keys
from appinstall.store.store import Store

RECOVERY = "if it is lost, run `appinstall db recover-lost-key` (docs/operations.md, 'Losing the master key')"


class ConfigurationError(Exception):
    """The settings cannot work; the message says which and how to fix it."""


def _key_source(settings: Settings) -> str:
    if settings.master_key is not None:
        return "APPINSTALL_MASTER_KEY"
    return f"the master key file {settings.master_key_file} (APPINSTALL_DATA_DIR)"


def open_keyring(settings: Settings) -> tuple[Keyring, str | None]:
    """The configured master keys, and the text of a key file still to be written (None unless it is missing)."""
    if settings.master_key is not None:
        try:
            return Keyring.parse(settings.master_key.get_secret_value()), None
        except KeyringError as error:
            raise ConfigurationError(
                f"APPINSTALL_MASTER_KEY: {error}; it is base64 of 32 bytes (make one with `appinstall keygen`), "
                "newest first, older keys after commas"
            ) from None
    if not is_sqlite(settings.resolved_database_url()):
        raise ConfigurationError(
            "set APPINSTALL_MASTER_KEY when the store is PostgreSQL: every process must share the key that "
            "encrypts client secrets (make one with `appinstall keygen`)"
        )
    if not settings.master_key_file.exists():
        text = generate_key()
        return Keyring.parse(text), text
    try:
        return Keyring.from_file(settings.master_key_file), None
    except (KeyringError, OSError) as error:
        raise ConfigurationError(
            f"{_key_source(settings)}: {error}; it holds base64 of 32 bytes per key, comma-separated, newest first"
        ) from None


def check_key_file(found: Census, settings: Settings) -> None:
    """Refuse to make a new key file for a store that holds what the lost one sealed."""
    if found:
        everything: Counter[str] = sum(found.values(), Counter())
        raise ConfigurationError(
            f"the master key file {settings.master_key_file} (APPINSTALL_DATA_DIR) is missing, but the store holds "
            f"{describe(everything)} sealed by a master key: restore the file from your backup, or set "
            f"APPINSTALL_MASTER_KEY; {RECOVERY}"
        )


def check_keys(found: Census, keyring: Keyring, settings: Settings) -> None:
    """Refuse keys that cannot open what the store sealed, naming the missing key and what it sealed."""
    missing = missing_keys(found, keyring.key_ids)
    if missing:
        sealed = "; ".join(f"master key {key_label(key)} sealed {describe(counts)}" for key, counts in missing.items())
        raise ConfigurationError(
            f"{_key_source(settings)} lacks a key the store needs: {sealed}. Put it back after the current key "
            f"and run `appinstall db reencrypt` before removing it; {RECOVERY}"
        )


async def open_store(settings: Settings, *, missing_keys_ok: bool = False, recovering: bool = False) -> Store:
    """Connect, migrate to the newest schema, load the master keys and check that they open what is sealed.

    ``missing_keys_ok`` lets a store open that holds what no configured key opens (``db reencrypt`` reports it
    itself); ``recovering`` skips the check altogether and writes a missing key file whatever the store holds:
    for the lost-key recovery, whose job is to replace what the missing key sealed.
    """
    keyring, new_key_text = open_keyring(settings)
    engine = create_engine(settings.resolved_database_url())
    store = Store(engine=engine, keyring=keyring)
    try:
        await upgrade(engine, keyring)
        if not recovering:
            found = await census(store)
            if new_key_text is not None:
                check_key_file(found, settings)
            if not missing_keys_ok:
                check_keys(found, keyring, settings)
        if new_key_text is not None:
            Keyring.create_file(settings.master_key_file, new_key_text)
    except BaseException:
        await store.close()
        raise
    return store
