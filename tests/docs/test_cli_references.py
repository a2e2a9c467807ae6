"""Every ``appinstall …`` line in the README's and the docs' shell blocks names a command and options that exist.

The tutorial and the authentication, HTTP API and webhooks pages run as written (``test_tutorial``,
``test_reference_pages``); the README's and the operations page's blocks hold placeholders (``ID``, ``T``) and
alternatives (``list | show ID``), so they cannot run, but they must not drift from the command line either:
each line is walked down the real command tree and each ``--option`` looked up on the command it reaches.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from appinstall.cli import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell|console)\b[^\n]*\n(?P<code>.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND = re.compile(r"^\s*(?:\$ )?(?:\.venv/bin/)?appinstall(?P<rest>(?: .*)?)$")
TREE = typer.main.get_command(app)


def references() -> Iterator[tuple[str, str]]:
    """(where, the line) for every appinstall command line in a shell block of the README or the docs."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for block in SHELL_BLOCK.finditer(text):
            first_line = text[: block.start("code")].count("\n") + 1
            for offset, line in enumerate(block["code"].splitlines()):
                if COMMAND.match(line):
                    yield f"{page.name}:{first_line + offset}", line


def _words(line: str) -> list[str]:
    """The line's words, without its comment, redirection, option brackets or what follows a pipe to another program."""
    code = re.split(r"\s+#\s", line, maxsplit=1)[0]
    code = re.split(r"\s(?:\|\||>|2>|<)\s?", code, maxsplit=1)[0]
    code = code.replace("[", " ").replace("]", " ").rstrip("\\ ")
    return shlex.split(code, posix=True)


def _resolve(words: list[str], start: Any) -> tuple[Any, list[str]]:
    """The command the words lead to from ``start``, and the words left for it."""
    command = start
    while words and words[0] in _commands(command):
        command, words = _commands(command)[words[0]], words[1:]
    return command, words


def _options(command: Any) -> set[str]:
    names = {"--help"}
    for parameter in command.params:
        names.update(parameter.opts)
        names.update(parameter.secondary_opts)
    return names


def _check(line: str) -> list[str]:
    """What in the line does not exist on the command line (empty when everything does)."""
    match = COMMAND.match(line)
    assert match is not None
    problems = []
    group: Any = TREE
    for index, alternative in enumerate(match["rest"].split(" | ")):
        words = _words(alternative)
        # "installations list | show ID": later alternatives are commands of the first one's group
        start = TREE if index == 0 or (words and words[0] in _commands(TREE)) else group
        if index == 0:
            group = _parent_of(words, start)
        command, rest = _resolve(words, start)
        if _commands(command) and rest and not rest[0].startswith("-"):
            problems.append(f"{rest[0]!r} is not a command of {command.name}")
            continue
        known = _options(command) | ({"--version"} if command is TREE else set())
        problems += [
            f"{word.split('=')[0]} is not an option of {command.name}"
            for word in rest
            if word.startswith("--") and word.split("=")[0] not in known
        ]
    return problems


def _commands(command: Any) -> dict[str, Any]:
    """A group's commands (Typer's command classes are not click's, so this asks, rather than isinstance)."""
    found: dict[str, Any] = getattr(command, "commands", None) or {}
    return found


def _parent_of(words: list[str], start: Any) -> Any:
    """The group that holds the command the words lead to."""
    command, parent = start, start
    while words and words[0] in _commands(command):
        parent, command, words = command, _commands(command)[words[0]], words[1:]
    return parent


REFERENCES = list(references())


def test_the_docs_name_appinstall_commands_at_all() -> None:
    assert len(REFERENCES) > 40


@pytest.mark.parametrize(("where", "line"), REFERENCES, ids=[where for where, _ in REFERENCES])
def test_each_documented_command_and_option_exists(where: str, line: str) -> None:
    assert _check(line) == [], f"{where}: {line}"


def test_a_command_that_does_not_exist_is_caught() -> None:
    assert _check("appinstall deliveries list ID --limit 3") == []
    assert _check("appinstall deliveries replay ID") == ["'replay' is not a command of deliveries"]
    assert _check("appinstall deliveries list ID --colour red") == ["--colour is not an option of list"]
    assert _check("appinstall deploy manifest.json") == ["'deploy' is not a command of appinstall"]
    assert _check("appinstall installations list | show ID | undo ID") == ["'undo' is not a command of installations"]
