"""Commands that run or administer a server on this machine: serve, db, accounts, keys, keygen.

``accounts create/list`` and ``keys create/list/revoke`` work on the store directly (like a framework's management
commands), so an operator can bootstrap a tenant before any HTTP client has a credential, and take a leaked key
away without one.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Annotated

import typer

from appinstall.accounts import service as accounts
from appinstall.accounts.models import KeyInfo
from appinstall.cli.confirm import YesOption, confirm
from appinstall.cli.serve_startup import check_store, lock_sqlite_store, run_bound
from appinstall.cli.signals import stop_on_signals
from appinstall.cli.startup_errors import fail, load_settings, with_store
from appinstall.cli.times import utc_time
from appinstall.logs import LogFormat, configure_logging
from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.store.keyring import generate_key

db_app = typer.Typer(help="The store: migrations, master-key rotation and recovery.", no_args_is_help=True)
accounts_app = typer.Typer(help="Accounts (tenants).", no_args_is_help=True)
keys_app = typer.Typer(help="Admin keys of an account.", no_args_is_help=True)


class AgentChoice(StrEnum):
    """The sandbox's ``AgentMode`` values, as Typer takes choices (tests check that the two agree)."""

    off = "off"
    echo = "echo"


DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Store URL (default: APPINSTALL_DATABASE_URL or SQLite).")
]


def _settings(database_url: str | None = None, **overrides: object) -> Settings:
    return load_settings(database_url=database_url or None, **overrides)


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


_with_store = with_store


class _QuerylessAccessLog(logging.Filter):
    """Drop query strings from access-log lines: the platform's clients send client secrets in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], record.args[2].split("?", 1)[0], *record.args[3:])
        return True


LogFormatOption = Annotated[
    LogFormat | None,
    typer.Option(
        "--log-format",
        help="Log lines as readable text or one JSON object per line (default: APPINSTALL_LOG_FORMAT, text).",
        show_default=False,
    ),
]


def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: APPINSTALL_HOST, 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: APPINSTALL_PORT, 8080).")] = None,
    database_url: DatabaseOption = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Development mode: webhooks may reach loopback and http:// endpoints.")
    ] = False,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker", help="Run the webhook worker in this process (default: APPINSTALL_WORKER, yes)."
        ),
    ] = None,
    agent: Annotated[
        AgentChoice | None,
        typer.Option(
            "--agent",
            help="The sandbox's scripted agent for every account (an account's own setting overrides it): echo "
            "accepts, reads, types and replies with the consumer's text (default: APPINSTALL_SANDBOX_AGENT, off).",
            show_default=False,
        ),
    ] = None,
    log_format: LogFormatOption = None,
) -> None:
    """Run the HTTP API (uvicorn, uvloop, httptools) and, unless --no-worker, the webhook worker."""
    import uvicorn

    from appinstall.http.serving import HttpLimits, protocol_class

    settings = _settings(
        database_url,
        host=host,
        port=port,
        dev=dev or None,
        worker=worker,
        sandbox_agent=agent and agent.value,
        log_format=log_format,
    )
    if settings.dev:
        typer.secho(
            "appinstall: DEVELOPMENT MODE: webhooks may reach loopback addresses and plain http://. "
            "Never run this in production.",
            err=True,
            fg="yellow",
            bold=True,
        )
    if settings.sandbox_agent == "echo":
        typer.echo("appinstall: the echo agent answers every account's consumers (unless an account chose)", err=True)
    lock_sqlite_store(settings)
    check_store(settings)  # the server's own start-up check, run first so that a failure is one line
    from appinstall.app import create_app  # here: `db`, `accounts` and `keys` need none of the HTTP application

    application = create_app(settings, freeze_after_startup=True)
    configure_logging(settings.log_format)
    logging.getLogger("uvicorn.access").addFilter(_QuerylessAccessLog())
    config = uvicorn.Config(
        application,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http=protocol_class(HttpLimits.from_settings(settings)),  # httptools, with header sizes and timeouts bounded
        timeout_keep_alive=settings.http_keep_alive_seconds,
        log_level="info",
        log_config=None,  # configure_logging above: uvicorn's lines in the same format as ours
        server_header=False,
        proxy_headers=False,  # X-Forwarded-For is read by the app, from APPINSTALL_TRUSTED_PROXIES only
    )
    run_bound(config, settings)


def worker(
    database_url: DatabaseOption = None,
    metrics_port: Annotated[
        int | None, typer.Option("--metrics-port", help="Serve Prometheus metrics on this port.", show_default=False)
    ] = None,
    dev: Annotated[
        bool, typer.Option("--dev", help="Development mode: webhooks may reach loopback and http:// endpoints.")
    ] = False,
    log_format: LogFormatOption = None,
) -> None:
    """Deliver webhooks (no HTTP API). On PostgreSQL, run as many as you like, on any machines; on SQLite, beside
    `serve --no-worker` on the same machine."""
    from appinstall.app import freeze_startup_objects
    from appinstall.webhooks.worker import Worker

    settings = _settings(database_url, dev=dev or None, worker_metrics_port=metrics_port, log_format=log_format)

    async def run(store: Store) -> None:
        # Only once the store is open: a start-up failure is then its one line, after no migration chatter.
        configure_logging(settings.log_format)
        stop = stop_on_signals()
        delivery = Worker(store, settings)
        await delivery.start()
        freeze_startup_objects()
        if settings.worker_metrics_port is not None:
            from prometheus_client import start_http_server

            try:
                start_http_server(settings.worker_metrics_port, addr=settings.host)
            except OSError as error:
                fail(
                    [
                        f"cannot serve metrics on {settings.host} port {settings.worker_metrics_port} "
                        f"({error.strerror or error}): choose another --metrics-port or APPINSTALL_WORKER_METRICS_PORT"
                    ],
                    error,
                )
            typer.echo(
                f"appinstall: metrics on http://{settings.host}:{settings.worker_metrics_port}/metrics", err=True
            )
        typer.echo(f"appinstall: webhook worker {delivery.owner} running; stop with Ctrl-C or SIGTERM", err=True)
        await stop.wait()
        typer.echo("appinstall: stopping: finishing or giving back deliveries in flight", err=True)
        await delivery.stop()

    _with_store(settings, run)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None) -> None:
    """Apply every pending migration."""

    async def nothing(_: Store) -> None:
        return None

    _with_store(_settings(database_url), nothing)
    typer.echo("the store is at the newest schema")


@accounts_app.command("create")
def accounts_create(
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT_ID", help="The platform's account id.")],
    database_url: DatabaseOption = None,
) -> None:
    """Create an account."""
    from appinstall.accounts.models import AccountCreate

    try:
        AccountCreate(id=account_id)
    except ValueError:
        raise _fail("an account id is 1-64 letters, digits, '-' or '_', starting with a letter or digit") from None
    account = _with_store(_settings(database_url), lambda store: accounts.create_account(store, account_id))
    typer.echo(f"created account {account.id}")


@accounts_app.command("list")
def accounts_list(database_url: DatabaseOption = None) -> None:
    """List the accounts, by id, with when each was created."""
    found = _with_store(_settings(database_url), accounts.list_accounts)
    if not found:
        typer.echo("no accounts; create one with 'appinstall accounts create ACCOUNT_ID'")
        return
    for account in found:
        typer.echo(f"{account.id}  created {utc_time(account.created_at)} UTC")


@keys_app.command("create")
def keys_create(
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT_ID")],
    name: Annotated[str | None, typer.Option(help="A label for the key.")] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Create an admin key for an account and print it (it is shown only once)."""

    async def create(store: Store) -> str:
        await accounts.get_account(store, account_id)
        created = await accounts.create_key(store, account_id, name)
        return created.key

    key = _with_store(_settings(database_url), create)
    typer.echo(key)
    if sys.stdout.isatty():
        typer.echo("store this key now: it is shown only once", err=True)


@keys_app.command("list")
def keys_list(
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT_ID")],
    database_url: DatabaseOption = None,
) -> None:
    """List an account's admin keys: id, name, created, revoked. Never the key itself (only its hash is kept)."""

    async def work(store: Store) -> list[KeyInfo]:
        await accounts.get_account(store, account_id)
        return await accounts.list_keys(store, account_id)

    found = _with_store(_settings(database_url), work)
    if not found:
        typer.echo(f"account {account_id} has no admin keys; create one with 'appinstall keys create {account_id}'")
        return
    for key in found:
        revoked = f"revoked {utc_time(key.revoked_at)} UTC" if key.revoked_at is not None else "active"
        typer.echo(f"{key.id}  {key.name or '-'}  created {utc_time(key.created_at)} UTC  {revoked}")


@keys_app.command("revoke")
def keys_revoke(
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT_ID")],
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="The key's id, as 'appinstall keys list' shows.")],
    database_url: DatabaseOption = None,
    yes: YesOption = False,
) -> None:
    """Revoke an admin key: every request made with it is refused from now on. Asks first."""
    confirm(f"Revoke key {key_id}?", f"key {key_id} of account {account_id} stops working at once", yes=yes)

    async def work(store: Store) -> None:
        await accounts.get_account(store, account_id)
        await accounts.revoke_key(store, account_id, key_id)

    _with_store(_settings(database_url), work)
    typer.echo(f"revoked key {key_id} of account {account_id}")


def keygen() -> None:
    """Print a new master key (base64 of 32 random bytes) for APPINSTALL_MASTER_KEY."""
    typer.echo(generate_key())
