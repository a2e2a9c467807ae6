"""Asking before an irreversible step: --yes, a person's answer, or a one-line refusal without a terminal."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from appinstall.cli import confirm as confirm_module
from appinstall.cli.confirm import YesOption, confirm

runner = CliRunner()
app = typer.Typer()


@app.command()
def drop(yes: YesOption = False) -> None:
    confirm("Drop the table?", "the table and its rows are gone for good", yes=yes)
    typer.echo("dropped")


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if a person sat at the terminal (the test runner's streams are not one)."""
    monkeypatch.setattr(confirm_module, "interactive", lambda: True)


def test_yes_goes_ahead_without_asking() -> None:
    result = runner.invoke(app, ["--yes"])
    assert (result.exit_code, result.stdout) == (0, "dropped\n")


def test_the_short_flag_is_y() -> None:
    assert runner.invoke(app, ["-y"]).exit_code == 0


def test_without_a_terminal_it_refuses_in_one_line_that_says_to_pass_yes() -> None:
    result = runner.invoke(app, [], input="y\n")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "error: the table and its rows are gone for good; pass --yes to confirm\n"


def test_at_a_terminal_it_says_what_happens_and_asks(terminal: None) -> None:
    result = runner.invoke(app, [], input="y\n")
    assert result.exit_code == 0
    assert result.stdout == "The table and its rows are gone for good. Drop the table? [y/N]: y\ndropped\n"


@pytest.mark.parametrize("answer", ["n\n", "\n"])
def test_at_a_terminal_anything_but_yes_does_nothing(terminal: None, answer: str) -> None:
    result = runner.invoke(app, [], input=answer)
    assert result.exit_code == 1
    assert "dropped" not in result.stdout
    assert result.stderr == "nothing done\n"
