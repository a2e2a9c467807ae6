"""``appinstall validate`` and ``appinstall schema``."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from appinstall.manifest import Problem, ValidationResult, validate_manifest
from appinstall.manifest.retries import retry_summary
from appinstall.manifest.schema import manifest_schema_text

USAGE_ERROR = 2


class OutputFormat(StrEnum):
    human = "human"
    json = "json"


def read_input(name: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``; a usage error (exit 2) when it cannot be read."""
    if name == "-":
        return sys.stdin.buffer.read()
    path = Path(name)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        reason = "no such file"
    except IsADirectoryError:
        reason = "is a directory"
    except PermissionError:
        reason = "permission denied"
    except OSError as error:
        reason = error.strerror or str(error)
    Console(stderr=True, highlight=False).print(f"[red]error:[/] {escape(name)}: {reason}", soft_wrap=True)
    raise typer.Exit(USAGE_ERROR)


def problem_line(name: str, problem: Problem, style: str, label: str) -> str:
    where = escape(problem.pointer or "/")
    line = f"{escape(name)}: [{style}]{label}[/] [bold]{where}[/]: {escape(problem.message)} [dim]({problem.code})[/]"
    if problem.hint:
        line += f" [cyan]hint: {escape(problem.hint)}[/]"
    return line


def print_problems(console: Console, name: str, result: ValidationResult) -> None:
    """One line per error, then one per warning."""
    for problem in result.errors:
        console.print(problem_line(name, problem, "red", "error"), soft_wrap=True)
    for problem in result.warnings:
        console.print(problem_line(name, problem, "yellow", "warning"), soft_wrap=True)


def _print_human(console: Console, name: str, result: ValidationResult) -> None:
    """Problems, then for a valid manifest the verdict and what each webhook does when a delivery fails."""
    print_problems(console, name, result)
    if result.manifest is not None:
        console.print(f"{escape(name)}: [green]valid[/]", soft_wrap=True)
        for line in retry_summary(result.manifest):
            console.print(f"{escape(name)}: [dim]retries[/] {escape(line)}", soft_wrap=True)


def validate(
    files: Annotated[list[str], typer.Argument(metavar="FILE", help="Manifest files to check; - reads stdin.")],
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="human: one line per problem; json: machine-readable."),
    ] = OutputFormat.human,
    dev: Annotated[
        bool,
        typer.Option("--dev", help="Also accept http:// webhooks to this machine, as `appinstall serve --dev` does."),
    ] = False,
) -> None:
    """Validate App Install manifests. Exit 0 when all are valid, 1 when any is not, 2 on usage errors."""
    documents = [(name, read_input(name)) for name in files]
    results = [
        (name if name != "-" else "<stdin>", validate_manifest(data, allow_local_http=dev)) for name, data in documents
    ]
    if output_format is OutputFormat.json:
        if len(results) == 1:
            payload: object = results[0][1].to_dict()
        else:
            payload = [{"file": name, **result.to_dict()} for name, result in results]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    else:
        console = Console(highlight=False)
        for name, result in results:
            _print_human(console, name, result)
    if not all(result.valid for _, result in results):
        raise typer.Exit(1)


def schema() -> None:
    """Print the manifest's JSON Schema (2020-12)."""
    typer.echo(manifest_schema_text(), nl=False)
