"""``appinstall install``, ``plan``, ``apply`` and ``appinstall installations …``: a server's registry from a shell.

Every command names a server, an admin key and an account, by flag or environment (``APPINSTALL_SERVER``,
``APPINSTALL_KEY``, ``APPINSTALL_ACCOUNT``), so CI can export them once. Exit codes follow ``appinstall validate``:
0 success, 1 when the manifest is invalid or the server refuses (its problem on stderr), 2 for usage errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from appinstall.cli.confirm import YesOption, confirm
from appinstall.cli.manifest import USAGE_ERROR, OutputFormat, print_problems, read_input
from appinstall.cli.remote import (
    RegistryClient,
    RemoteError,
    ServerUnreachable,
    UnknownInstallation,
    apply_manifest,
    find_installation,
    resolve_installation,
)
from appinstall.cli.times import utc_time
from appinstall.manifest import ValidationResult, validate_document
from appinstall.manifest.parsing import DocumentError, parse_document
from appinstall.registry.models import SERVER_FIELDS
from appinstall.registry.plan import Change, plan_changes

DEFAULT_SERVER = "http://127.0.0.1:8080"
FAILURE = 1
CHANGES_PENDING = 2
_PIPED_WIDTH = 200

installations_app = typer.Typer(help="Installed apps of an account on a server.", no_args_is_help=True)

ServerOption = Annotated[
    str,
    typer.Option("--server", envvar="APPINSTALL_SERVER", metavar="URL", help="The appinstall server's base URL."),
]
KeyOption = Annotated[
    str | None,
    typer.Option(
        "--key",
        envvar="APPINSTALL_KEY",
        metavar="KEY",
        help="An admin key of the account (never printed).",
        show_default=False,
    ),
]
AccountOption = Annotated[
    str | None,
    typer.Option(
        "--account", "-a", envvar="APPINSTALL_ACCOUNT", metavar="ACCOUNT", help="The account id.", show_default=False
    ),
]
FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="human: readable lines; json: machine-readable.")
]
FileArgument = Annotated[str, typer.Argument(metavar="FILE", help="The manifest; - reads standard input.")]
IdArgument = Annotated[
    str, typer.Argument(metavar="INSTALLATION", help="The installation's id, client_id or client_name (any case).")
]


# --- Plumbing shared by the commands -------------------------------------------------------------------------


def _usage_error(message: str) -> NoReturn:
    """Exit 2 with one line, as ``validate`` does for an unreadable file (Typer's vendored click is private)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _error(message: str) -> None:
    typer.echo(f"error: {message}", err=True)


def _report(error: RemoteError) -> None:
    """The problem's detail, then one ``pointer: message`` line per error, as ``validate`` lists them."""
    _error(f"{error.detail} (HTTP {error.status})")
    for item in error.errors:
        line = f"  {item.get('pointer') or '/'}: {item.get('message', '')}"
        if item.get("hint"):
            line += f" (hint: {item['hint']})"
        typer.echo(line, err=True)
    if error.status == 412:
        typer.echo("  someone changed the installation meanwhile; run the command again to work from it", err=True)


@contextmanager
def registry_session(server: str, key: str | None, account: str | None) -> Iterator[RegistryClient]:
    """A client for the account, turning the server's refusals and silences into exit 1 with one message."""
    if not key:
        _usage_error("no admin key: pass --key or set APPINSTALL_KEY")
    if not account:
        _usage_error("no account: pass --account or set APPINSTALL_ACCOUNT")
    if not server.startswith(("http://", "https://")):
        _usage_error(f"--server must be an http:// or https:// URL, not {server!r}")
    try:
        with RegistryClient(server, key, account) as client:
            yield client
    except RemoteError as error:
        _report(error)
        raise typer.Exit(FAILURE) from None
    except ServerUnreachable as error:
        _error(str(error))
        raise typer.Exit(FAILURE) from None
    except UnknownInstallation as error:
        _error(
            f"no installation of account {account} is named {error.reference!r}; "
            "give its id, client_id or client_name (see 'appinstall installations list')"
        )
        raise typer.Exit(FAILURE) from None


def _load_manifest(file: str) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and its normalised manifest; its problems on stderr and exit 1 when it is invalid."""
    data = read_input(file)
    name = "<stdin>" if file == "-" else file
    try:
        document = parse_document(data)
    except DocumentError as error:
        result = ValidationResult(None, error.problems)
    else:
        # The server takes its own fields (``enabled``, and what a GET returned) beside the manifest's.
        if isinstance(document, dict):
            document = {key: value for key, value in document.items() if key not in SERVER_FIELDS}
        # The server decides whether plain-http local endpoints are allowed (only a --dev server does).
        result = validate_document(document, allow_local_http=True)
    print_problems(Console(stderr=True, highlight=False), name, result)
    if result.manifest is None:
        raise typer.Exit(FAILURE)
    return data, result.manifest.to_document()


def _print_json(value: object) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False))


def _print_credentials(installation: dict[str, Any]) -> None:
    typer.echo(f"installed {installation.get('client_name')}")
    for field in ("id", "client_id", "client_secret"):
        typer.echo(f"{field}: {installation.get(field)}")


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _print_changes(changes: list[Change]) -> None:
    for change in changes:
        if change.kind == "added":
            typer.secho(f"+ {change.pointer}: {_value(change.new)}", fg="green")
        elif change.kind == "removed":
            typer.secho(f"- {change.pointer}: {_value(change.old)}", fg="red")
        else:
            typer.secho(f"~ {change.pointer}: {_value(change.old)} → {_value(change.new)}", fg="yellow")


# --- install, plan, apply ------------------------------------------------------------------------------------


def install(
    file: FileArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """Install an app from its manifest and print its client credentials (the secret is shown in full)."""
    data, _ = _load_manifest(file)
    with registry_session(server, key, account) as registry:
        created = registry.create(data).installation
    if output_format is OutputFormat.json:
        _print_json(created)
    else:
        _print_credentials(created)


def plan(
    file: FileArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
    exit_code: Annotated[
        bool,
        typer.Option("--exit-code", help="Exit 2 when apply would change something, 0 when not (1 stays for errors)."),
    ] = False,
) -> None:
    """Show what `apply` would change in the installed app of the manifest's client_name. Changes nothing."""
    _, document = _load_manifest(file)
    name = document["client_name"]
    with registry_session(server, key, account) as registry:
        found = find_installation(registry, name)
    changes = plan_changes(found.installation if found else {}, document)
    if output_format is OutputFormat.json:
        action = "install" if found is None else "update" if changes else "none"
        identifier = found.installation.get("id") if found else None
        _print_json(
            {"client_name": name, "id": identifier, "action": action, "changes": [c.to_dict() for c in changes]}
        )
    elif found is None:
        typer.echo(f"would install {name}")
    elif not changes:
        typer.echo(f"no changes: {name} ({found.installation.get('id')}) matches the manifest")
    else:
        typer.echo(f"would change {name} ({found.installation.get('id')}), {len(changes)} change(s):")
        _print_changes(changes)
    if exit_code and (found is None or changes):
        raise typer.Exit(CHANGES_PENDING)


def apply(
    file: FileArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
) -> None:
    """Make the installed app match the manifest: install it, update it, or leave it. Safe to run repeatedly.

    An update PUTs the whole object with If-Match set to the revision just read, so a change made by someone else
    in between is refused (exit 1) instead of overwritten.
    """
    data, document = _load_manifest(file)
    name = document["client_name"]
    with registry_session(server, key, account) as registry:
        applied = apply_manifest(registry, data, document)
    action, result, changes = applied.action, applied.result, applied.changes
    installation = result.installation
    if output_format is OutputFormat.json:
        changed = [change.to_dict() for change in changes]
        _print_json({"action": action, "revision": result.revision, "installation": installation, "changes": changed})
    elif action == "installed":
        _print_credentials(installation)
    elif action == "unchanged":
        typer.echo(f"no changes: {name} ({installation.get('id')}) is up to date at revision {result.revision}")
    else:
        typer.echo(f"updated {name} ({installation.get('id')}) to revision {result.revision}:")
        _print_changes(changes)


# --- installations list / show / disable / enable / delete / rotate-secret ----------------------------------


def _event_types(installation: dict[str, Any]) -> str:
    """Subscribed notification types by their last name segment (``ContentEvent``), one a line, to fit 80 columns."""
    capabilities = installation.get("capabilities")
    webhooks = capabilities.get("webhooks", {}) if isinstance(capabilities, dict) else {}
    return "\n".join(event.rsplit(".", 1)[-1] for event in webhooks if event != "retry")


@installations_app.command("list")
def list_installations(
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    output_format: FormatOption = OutputFormat.human,
    include_deleted: Annotated[bool, typer.Option("--include-deleted", help="Also list deleted ones.")] = False,
) -> None:
    """List the account's installations, oldest first."""
    with registry_session(server, key, account) as registry:
        found = registry.installations(include_deleted=include_deleted)
    if output_format is OutputFormat.json:
        _print_json(found)
        return
    if not found:
        typer.echo("no installations")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("client_name", overflow="fold")
    table.add_column("enabled", no_wrap=True)
    if include_deleted:
        table.add_column("deleted", no_wrap=True)
    table.add_column("event types", overflow="fold")
    for item in found:
        row = [str(item.get("id")), str(item.get("client_name")), "yes" if item.get("enabled") else "no"]
        if include_deleted:
            row.append("yes" if item.get("deleted") else "no")
        table.add_row(*(escape(cell) for cell in [*row, _event_types(item)]))
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = _PIPED_WIDTH  # whole rows when piped, not the 80 columns rich assumes
    console.print(table)


@installations_app.command("show")
def show(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Print one installation as JSON (deleted ones too, by id)."""
    with registry_session(server, key, account) as registry:
        _print_json(registry.get(resolve_installation(registry, installation_id)).installation)


def _set_enabled(reference: str, enabled: bool, server: str, key: str | None, account: str | None) -> None:
    word = "enabled" if enabled else "disabled"
    with registry_session(server, key, account) as registry:
        installation_id = resolve_installation(registry, reference)
        current = registry.get(installation_id)
        name = current.installation.get("client_name")
        if current.installation.get("enabled") is enabled:
            typer.echo(f"{name} ({installation_id}) is already {word}")
            return
        registry.patch(installation_id, {"enabled": enabled}, current.revision)
    typer.echo(f"{word} {name} ({installation_id})")


@installations_app.command("disable")
def disable(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Stop the app (no notifications, no tokens) without forgetting it."""
    _set_enabled(installation_id, False, server, key, account)


@installations_app.command("enable")
def enable(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
) -> None:
    """Start a disabled app again."""
    _set_enabled(installation_id, True, server, key, account)


def installation_label(installation: dict[str, Any]) -> str:
    """``App name (id)``: how a command names the installation it is about to change."""
    return f"{installation.get('client_name')} ({installation.get('id')})"


@installations_app.command("delete")
def delete(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    yes: YesOption = False,
) -> None:
    """Delete an installation: its credentials stop working and its client_name becomes free. Asks first."""
    with registry_session(server, key, account) as registry:
        found = registry.get(resolve_installation(registry, installation_id)).installation
        label = installation_label(found)
        confirm(f"Delete {label}?", f"deleting {label} stops its credentials at once", yes=yes)
        registry.delete(str(found["id"]))
    typer.echo(f"deleted {label}")


@installations_app.command("rotate-secret")
def rotate_secret(
    installation_id: IdArgument,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    account: AccountOption = None,
    grace_seconds: Annotated[
        int | None,
        typer.Option(
            "--grace-seconds",
            min=0,
            max=30 * 86_400,
            help="How long the previous secret keeps working [default: the server's, 24 h].",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.human,
    yes: YesOption = False,
) -> None:
    """Issue a new client secret and print it, with the time until which the previous one still works. Asks first."""
    when = (
        "after the server's grace period (24 h by default)"
        if grace_seconds is None
        else "at once"
        if grace_seconds == 0
        else f"in {grace_seconds} s"
    )
    with registry_session(server, key, account) as registry:
        found = registry.get(resolve_installation(registry, installation_id)).installation
        label = installation_label(found)
        confirm(f"Rotate the secret of {label}?", f"the current secret of {label} stops working {when}", yes=yes)
        rotated = registry.rotate_secret(str(found["id"]), grace_seconds)
    if output_format is OutputFormat.json:
        _print_json(rotated)
        return
    typer.echo(f"client_secret: {rotated.get('client_secret')}")
    until = rotated.get("previous_secret_valid_until")
    if isinstance(until, int):
        typer.echo(f"the previous secret works until {utc_time(until * 1000)} UTC")
