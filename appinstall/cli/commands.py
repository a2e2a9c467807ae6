"""The command tree of ``appinstall``, built whole or with only the command being run.

Each command's module is imported when the command is added, so ``appinstall listen`` or ``appinstall validate``
does not import the server (FastAPI, SQLAlchemy, Alembic, the delivery engine): a whole tree cost 1.4 s of imports
at every start, about half of which only ``serve``, ``worker`` and ``demo`` need. Both trees come from the one
table below, so a command runs, answers ``--help`` and fails the same way in either.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Annotated

import typer

from appinstall import __version__
from appinstall.cli.debug_flag import set_debug
from appinstall.cli.readable_help import ReadableGroup


@dataclass(frozen=True)
class Entry:
    """A command (a function) or a group of commands (a ``typer.Typer``) at the top of the tree."""

    name: str
    module: str  # in appinstall.cli
    attribute: str
    group: bool = False

    def add_to(self, app: typer.Typer) -> None:
        target = getattr(importlib.import_module(f"appinstall.cli.{self.module}"), self.attribute)
        if self.group:
            if self.name == "db":
                _add_key_commands(target)
            app.add_typer(target, name=self.name)
        else:
            app.command(self.name)(target)


# The order of ``appinstall --help`` (commands first, then groups, each in this order).
ENTRIES = (
    Entry("init", "starter", "init"),
    Entry("validate", "manifest", "validate"),
    Entry("schema", "manifest", "schema"),
    Entry("demo", "demo", "demo"),
    Entry("serve", "server", "serve"),
    Entry("worker", "server", "worker"),
    Entry("keygen", "server", "keygen"),
    Entry("db", "server", "db_app", group=True),
    Entry("accounts", "server", "accounts_app", group=True),
    Entry("keys", "server", "keys_app", group=True),
    Entry("signing-keys", "signing_keys", "signing_keys_app", group=True),
    Entry("token", "token", "token"),
    Entry("deliveries", "deliveries", "deliveries_app", group=True),
    Entry("listen", "listen", "listen"),
    Entry("trigger", "trigger", "trigger"),
    Entry("publish", "publish", "publish"),
    Entry("install", "installations", "install"),
    Entry("plan", "installations", "plan"),
    Entry("apply", "installations", "apply"),
    Entry("installations", "installations", "installations_app", group=True),
)
NAMES = frozenset(entry.name for entry in ENTRIES)


def _add_key_commands(db_app: typer.Typer) -> None:
    """``db reencrypt`` and ``db recover-lost-key`` live with the master keys; added once, whichever tree asks."""
    from appinstall.cli import master_keys

    if any(command.name == "reencrypt" for command in db_app.registered_commands):
        return
    db_app.command("reencrypt")(master_keys.reencrypt)
    db_app.command("recover-lost-key")(master_keys.recover_lost_key)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"appinstall {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a start-up or configuration error too.")
    ] = False,
) -> None:
    """Onboard connector apps to a messaging platform from an App Install manifest."""
    set_debug(debug)


def build(only: str | None = None) -> typer.Typer:
    """The root command with every command, or with only the one named ``only`` (and none when it is "")."""
    app = typer.Typer(
        name="appinstall",
        help="Onboard connector apps to a messaging platform from an App Install manifest.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=True,
        cls=ReadableGroup,
    )
    app.callback()(_root)
    for entry in ENTRIES:
        if only is None or entry.name == only:
            entry.add_to(app)
    return app


ROOT_FLAGS = frozenset({"--debug", "--version"})


def needed(arguments: list[str]) -> str | None:
    """Which command ``arguments`` run ("" for ``--version`` alone), or None when the whole tree is needed: no
    command (the root's help or its usage error), a name that is no command (the error suggests the right one),
    or another root option (``--help``, the shell completion ones)."""
    for argument in arguments:
        if argument not in ROOT_FLAGS:
            return argument if argument in NAMES else None
        if argument == "--version":
            return ""  # eager: it prints and exits before any command is looked at
    return None
