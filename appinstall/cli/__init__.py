"""The ``appinstall`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

from appinstall import __version__
from appinstall.cli import (
    deliveries,
    demo,
    installations,
    listen,
    manifest,
    master_keys,
    server,
    starter,
    startup_errors,
    token,
    trigger,
)
from appinstall.cli.readable_help import ReadableGroup
from appinstall.cli.signing_keys import signing_keys_app

app = typer.Typer(
    name="appinstall",
    help="Onboard connector apps to a messaging platform from an App Install manifest.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    cls=ReadableGroup,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"appinstall {__version__}")
        raise typer.Exit()


@app.callback()
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
    startup_errors.set_debug(debug)


app.command("init")(starter.init)
app.command("validate")(manifest.validate)
app.command("schema")(manifest.schema)
app.command("demo")(demo.demo)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("keygen")(server.keygen)
server.db_app.command("reencrypt")(master_keys.reencrypt)
server.db_app.command("recover-lost-key")(master_keys.recover_lost_key)
app.add_typer(server.db_app, name="db")
app.add_typer(server.accounts_app, name="accounts")
app.add_typer(server.keys_app, name="keys")
app.add_typer(signing_keys_app, name="signing-keys")
app.command("token")(token.token)
app.add_typer(deliveries.deliveries_app, name="deliveries")
app.command("listen")(listen.listen)
app.command("trigger")(trigger.trigger)
app.command("install")(installations.install)
app.command("plan")(installations.plan)
app.command("apply")(installations.apply)
app.add_typer(installations.installations_app, name="installations")


def main() -> None:
    app()
