"""Asking before a command does something that cannot be undone."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

USAGE_ERROR = 2
DECLINED = 1

YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do it without asking (for scripts and CI).")]


def interactive() -> bool:
    """Whether a person can answer: standard input and output are both a terminal."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def confirm(question: str, consequence: str, *, yes: bool) -> None:
    """Go on if ``--yes`` was given or the person at the terminal answers y; otherwise stop.

    ``consequence`` says what cannot be undone, then ``question`` asks: ``… stop at once. Delete X? [y/N]``.
    Without a terminal nobody can answer, so a script gets one line telling it to pass ``--yes`` (exit 2)
    instead of a prompt that would wait forever or take its input as the answer.
    """
    if yes:
        return
    if not interactive():
        typer.echo(f"error: {consequence}; pass --yes to confirm", err=True)
        raise typer.Exit(USAGE_ERROR)
    if not typer.confirm(f"{consequence[0].upper()}{consequence[1:]}. {question}", default=False):
        typer.echo("nothing done", err=True)
        raise typer.Exit(DECLINED)
