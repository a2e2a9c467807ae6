"""``appinstall token``: an AppJWT (or a ConsumerJWS) from the command line, for curl and scripts."""

from __future__ import annotations

from typing import Annotated

import httpx
import typer

from appinstall.connector.tokens import TokenClient, TokenError


def token(
    client_id: Annotated[str, typer.Option(envvar="APPINSTALL_CLIENT_ID", help="The installation's client_id.")],
    client_secret: Annotated[
        str, typer.Option(envvar="APPINSTALL_CLIENT_SECRET", help="Its client_secret.", show_default=False)
    ],
    account: Annotated[str, typer.Option("--account", "-a", envvar="APPINSTALL_ACCOUNT", help="The account id.")],
    server: Annotated[
        str, typer.Option(envvar="APPINSTALL_SERVER", help="The server's URL.")
    ] = "http://127.0.0.1:8080",
    consumer: Annotated[
        str | None, typer.Option(help="Print a ConsumerJWS for this external consumer id instead.")
    ] = None,
) -> None:
    """Print an AppJWT for an installation's client credentials (or, with --consumer, a ConsumerJWS)."""
    client = TokenClient(server, account, client_id, client_secret)
    try:
        typer.echo(client.consumer_token(consumer) if consumer else client.app_jwt())
    except TokenError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    except httpx.TransportError as error:
        typer.echo(f"error: cannot reach {server}: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        client.close()
