"""Start-up failures as one or two lines that name the setting and the fix, exit code 2, no traceback.

An operator who mistypes a setting, points at a database that is not there or starts a second server should read
what to change, not a 50-line traceback ending in a driver's internals. Every command that reads the settings or
opens the store goes through ``load_settings`` and ``with_store`` here; ``appinstall --debug …`` adds the
traceback for the rare case where the line is not enough.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
import uvloop
from pydantic import ValidationError
from pydantic_settings import SettingsError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from appinstall.cli.debug_flag import Debug
from appinstall.errors import DomainError
from appinstall.settings import Settings
from appinstall.settings_ranges import allowed, env_name
from appinstall.store import Store
from appinstall.store.engine import is_sqlite
from appinstall.store.keyring import KeyringError
from appinstall.store.startup_check import ConfigurationError, open_store

T = TypeVar("T")

STARTUP_EXIT_CODE = 2
_SECRET_FIELDS = ("master_key", "operator_token")


class StartupError(Exception):
    """A start-up problem, already put in words for the operator."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def fail(lines: list[str], cause: BaseException | None = None) -> NoReturn:
    """Print ``lines`` (and, with ``--debug``, the traceback of ``cause``) and exit with code 2."""
    if Debug.on and cause is not None:
        traceback.print_exception(cause, file=sys.stderr)
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(STARTUP_EXIT_CODE)


def _shown(field: str, value: Any) -> str:
    if field in _SECRET_FIELDS:
        return ""
    return f"={value}" if isinstance(value, str) else ""


def settings_problems(error: ValidationError) -> list[str]:
    """Each problem of a settings error under its ``APPINSTALL_…`` name, with what the setting accepts."""
    lines = []
    for problem in error.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        location = problem["loc"]
        field = str(location[0]) if location else ""
        if field not in Settings.model_fields:
            lines.append(message)
            continue
        name = env_name(field)
        lines.append(f"{name}{_shown(field, problem.get('input'))}: {message}; allowed: {allowed(field)}")
    return lines


def _settings_error_lines(error: SettingsError) -> list[str]:
    named = re.search(r'field "(\w+)"', str(error))
    if named is None or named.group(1) not in Settings.model_fields:
        return [str(error)]
    field = named.group(1)
    return [f"{env_name(field)} cannot be read: it must be {allowed(field)}"]


def load_settings(**overrides: object) -> Settings:
    """The settings from the environment, with the command's options (those not None) on top; exit 2 if invalid."""
    given: dict[str, Any] = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        fail(settings_problems(error), error)
    except SettingsError as error:
        fail(_settings_error_lines(error), error)


def _database(settings: Settings) -> str:
    url = settings.resolved_database_url()
    if is_sqlite(url):
        return f"the SQLite store at {make_url(url).database} (APPINSTALL_DATA_DIR or APPINSTALL_DATABASE_URL)"
    return f"the database at {make_url(url).render_as_string(hide_password=True)} (APPINSTALL_DATABASE_URL)"


def _reason(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__
    return re.sub(r"^\(.*?\)\s*", "", text)


def explain_opening(error: BaseException, settings: Settings) -> list[str] | None:
    """What went wrong opening the store, in words; None for an error that is not a start-up problem."""
    if isinstance(error, ConfigurationError):
        return [str(error)]
    if isinstance(error, KeyringError):
        return [f"APPINSTALL_MASTER_KEY: {error}; make a key with `appinstall keygen`"]
    if isinstance(error, ArgumentError | NoSuchModuleError | ModuleNotFoundError):
        return [
            f"APPINSTALL_DATABASE_URL cannot be used ({_reason(error)}); use postgresql://user:password@host:5432/name "
            "or leave it unset for SQLite in APPINSTALL_DATA_DIR"
        ]
    where = _database(settings)
    reason = _reason(error)
    if isinstance(error, sqlite3.Error) or (isinstance(error, OSError) and is_sqlite(settings.resolved_database_url())):
        return [f"cannot open {where}: {reason}; make the folder writable, or choose another APPINSTALL_DATA_DIR"]
    if isinstance(error, DBAPIError | OSError):
        if "does not exist" in reason:
            fix = "create the database (e.g. `createdb NAME`) or correct its name in APPINSTALL_DATABASE_URL"
        elif "password" in reason or "authentication" in reason:
            fix = "correct the user or password in APPINSTALL_DATABASE_URL"
        else:
            fix = "check that PostgreSQL runs there and that the URL's host and port are right"
        return [f"cannot open {where}: {reason}", fix]
    return None


@contextmanager
def explained(settings: Settings) -> Iterator[None]:
    """Turn a start-up problem raised in the block into a ``StartupError`` (others pass through)."""
    try:
        yield
    except StartupError:
        raise
    except Exception as error:
        lines = explain_opening(error, settings)
        if lines is None:
            raise
        raise StartupError(lines) from error


def with_store(
    settings: Settings,
    work: Callable[[Store], Awaitable[T]],
    *,
    missing_keys_ok: bool = False,
    recovering: bool = False,
) -> T:
    """Open the store (exit 2 with the reason if it cannot be), run ``work`` on it (exit 1 on a refusal).
    ``missing_keys_ok`` and ``recovering`` are ``open_store``'s."""

    async def run() -> T:
        with explained(settings):
            store = await open_store(settings, missing_keys_ok=missing_keys_ok, recovering=recovering)
        try:
            return await work(store)
        finally:
            await store.close()

    try:
        return uvloop.run(run())  # the loop `serve` runs on (uvicorn's), for the worker above all
    except StartupError as failure:
        fail(failure.lines, failure.__cause__)
    except ConfigurationError as error:
        fail([str(error)], error)
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from None
