"""Every command's ``--help``, and the shell completion scripts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from typer._click import Command
from typer.testing import CliRunner

from appinstall.cli import app

runner = CliRunner()
TYPE_PLACEHOLDER = re.compile(r"<[^<>\n]+>")  # <bool>, <str>, <list[str]>, <int range>, <human|json>


def _command_paths(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _command_paths(sub, (*path, name))


COMMANDS = list(_command_paths(typer.main.get_command(app)))


def test_every_command_is_walked() -> None:
    assert ("deliveries", "show") in COMMANDS and ("keys", "revoke") in COMMANDS and ("init",) in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "appinstall")
def test_help_names_values_without_python_type_placeholders(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert TYPE_PLACEHOLDER.findall(result.output) == []


def test_help_shows_an_options_metavar_and_a_choices_list() -> None:
    result = runner.invoke(app, ["deliveries", "list", "--help"], env={"COLUMNS": "200"})
    assert re.search(r"--since\s+TIME\s", result.output)
    assert re.search(r"--format\s+-f\s+human\|json\s", result.output)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_a_script_for_the_shell(shell: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The shell named, not detected from the parent processes (under nohup or a service manager, no shell): Typer
    # reads this when it builds the command, before the runner applies its own environment.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = runner.invoke(app, ["--show-completion", shell], env={"SHELL": f"/bin/{shell}"})
    assert result.exit_code == 0, result.output
    assert "_APPINSTALL_COMPLETE" in result.output
