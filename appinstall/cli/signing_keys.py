"""``appinstall signing-keys``: list, rotate and revoke the keys that sign tokens, by asking the running server.

The server does it, not this command in the store: so the answer is what the server will do (its token lifetime
decides when older keys retire), and its JWKS and verification change at once. Other API processes re-read the
keys within the interval the server states (30 s). The operator token is needed (``--key`` or ``APPINSTALL_KEY``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from appinstall.cli.confirm import USAGE_ERROR, YesOption, confirm
from appinstall.cli.installations import DEFAULT_SERVER, FormatOption, KeyOption, ServerOption
from appinstall.cli.manifest import OutputFormat
from appinstall.cli.remote import RemoteError, ServerClient, ServerUnreachable
from appinstall.cli.times import utc_time

FAILURE = 1
JWKS_CACHE_SECONDS = 300  # the JWKS answer's Cache-Control max-age: how long verifiers may keep an old copy
_PATH = "/api/signing-keys"

signing_keys_app = typer.Typer(
    help="Keys that sign tokens: list, rotate, revoke (asks the server; needs the operator token).",
    no_args_is_help=True,
)


class SigningKeysClient(ServerClient):
    def keys(self) -> dict[str, Any]:
        return self._object(self._request("GET", _PATH))

    def rotate(self, activate_in: int, algorithm: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"activate_in": activate_in, **({"algorithm": algorithm} if algorithm else {})}
        return self._object(self._request("POST", _PATH, json=body))

    def revoke(self, kid: str) -> dict[str, Any]:
        return self._object(self._request("DELETE", f"{_PATH}/{kid}"))


@contextmanager
def _session(server: str, key: str | None) -> Iterator[SigningKeysClient]:
    if not key:
        typer.echo("error: no operator token: pass --key or set APPINSTALL_KEY", err=True)
        raise typer.Exit(USAGE_ERROR)
    try:
        with SigningKeysClient(server, key) as client:
            yield client
    except RemoteError as error:
        hint = " (signing keys are the operator's: use the operator token)" if error.status == 403 else ""
        typer.echo(f"error: {error.detail} (HTTP {error.status}){hint}", err=True)
        raise typer.Exit(FAILURE) from None
    except ServerUnreachable as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(FAILURE) from None


def _line(key: dict[str, Any]) -> str:
    retires = "-" if key["retires_at"] is None else utc_time(key["retires_at"])
    return (
        f"{key['kid']}  {key['algorithm']:<6} {key['state']:<9} "
        f"activates {utc_time(key['activates_at'])}  retires {retires}"
    )


@signing_keys_app.command("list")
def list_keys(
    server: ServerOption = DEFAULT_SERVER, key: KeyOption = None, output: FormatOption = OutputFormat.human
) -> None:
    """The keys that verify tokens now: which one signs, which is next, when each retires."""
    with _session(server, key) as client:
        listed = client.keys()
    if output is OutputFormat.json:
        typer.echo(json.dumps(listed, indent=2))
        return
    for each in listed["keys"]:
        typer.echo(_line(each))


@signing_keys_app.command("rotate")
def rotate(
    activate_in: Annotated[
        int,
        typer.Option(min=0, help="Seconds before the new key signs: longer than verifiers cache the JWKS (5 minutes)."),
    ] = 3600,
    algorithm: Annotated[
        str | None, typer.Option(help="RS256, ES256 or EdDSA (default: the server's APPINSTALL_SIGNING_ALGORITHM).")
    ] = None,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
    output: FormatOption = OutputFormat.human,
) -> None:
    """Add a signing key that verifies at once and signs later; the others retire once their tokens expire."""
    with _session(server, key) as client:
        rotated = client.rotate(activate_in, algorithm)
    if output is OutputFormat.json:
        typer.echo(json.dumps(rotated, indent=2))
        return
    added, refresh = rotated["added"], rotated["jwks_refresh_seconds"]
    typer.echo(
        f"added signing key {added['kid']} ({added['algorithm']}): in this server's JWKS now, in every API "
        f"process's within {refresh} s; it signs from {utc_time(added['activates_at'])} UTC"
    )
    retiring = sorted({k["retires_at"] for k in rotated["keys"] if k["kid"] != added["kid"] and k["retires_at"]})
    if retiring:
        typer.echo(f"the older keys retire at {utc_time(retiring[-1])} UTC, when the last token they signed expires")
    if activate_in < JWKS_CACHE_SECONDS + refresh:
        typer.echo(
            f"warning: it signs within {activate_in} s; verifiers that cache the JWKS (up to {JWKS_CACHE_SECONDS} s) "
            "may meet its tokens before they know it, and must fetch the JWKS again on an unknown kid",
            err=True,
        )


@signing_keys_app.command("revoke")
def revoke(
    kid: Annotated[str, typer.Argument(metavar="KID", help="The key's id (see 'appinstall signing-keys list').")],
    yes: YesOption = False,
    server: ServerOption = DEFAULT_SERVER,
    key: KeyOption = None,
) -> None:
    """Remove a key at once: it leaves the JWKS and every token it signed is refused."""
    confirm(f"Revoke {kid}?", f"every token signed by {kid} stops working at once", yes=yes)
    with _session(server, key) as client:
        revoked = client.revoke(kid)
    refresh = revoked["jwks_refresh_seconds"]
    typer.echo(
        f"revoked {kid}: out of this server's JWKS and its tokens refused now; "
        f"in every other API process within {refresh} s"
    )
    if revoked["replacement"] is not None:
        replacement = revoked["replacement"]
        typer.echo(f"it was the key that signs: {replacement['kid']} ({replacement['algorithm']}) signs from now on")
