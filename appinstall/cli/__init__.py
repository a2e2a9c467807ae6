"""The ``appinstall`` command line.

``main`` builds only the command it runs (see ``commands``); ``appinstall.cli.app`` is the whole tree, built when it
is first asked for.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer


def main() -> None:
    from appinstall.cli.commands import build, needed

    # Shell completion (``_APPINSTALL_COMPLETE`` set) asks for the names of every command.
    completing = any(name.startswith("_") and name.endswith("_COMPLETE") for name in os.environ)
    only = None if completing else needed(sys.argv[1:])
    build(only)()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        from appinstall.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
