"""Reading the settings for a command: a bad ``APPINSTALL_*`` value is a start-up error (exit 2), one line per
problem naming the variable, not a traceback."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from appinstall.settings import Settings


def problems(error: ValidationError) -> list[str]:
    """One line per problem: the environment variable and pydantic's message, without its links."""
    lines = []
    for problem in error.errors(include_url=False):
        field = ".".join(str(part) for part in problem["loc"][:1])
        name = f"APPINSTALL_{field.upper()}" if field else "settings"
        lines.append(f"{name}: {problem['msg']}")
    return lines


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for line in problems(error):
            typer.echo(f"error: {line}", err=True)
        raise typer.Exit(2) from None
