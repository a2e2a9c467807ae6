"""``appinstall demo``: the platform's whole loop on a laptop, in one command, then the service left running.

The command only reads its options here; ``demo_run`` holds the machinery (the server, a receiver, the steps), and
is imported when the command runs: it pulls in the whole server, which no other command should pay for at start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def demo(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the SQLite store and master key live (default: APPINSTALL_DATA_DIR, ./data).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port of the server (default: APPINSTALL_PORT, 8080).", show_default=False)
    ] = None,
    listen_port: Annotated[
        int, typer.Option(help="Port of the receiver (default: any free one).", show_default=False)
    ] = 0,
    account: Annotated[str, typer.Option("--account", "-a", help="The demo's account.")] = "demo",
    once: Annotated[
        bool, typer.Option("--once", help="Stop after the demo: exit 0 if every notification arrived verified, else 1.")
    ] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the notifications.")] = 30.0,
) -> None:
    """Run the server with the echo agent, install the example app, hold a conversation and show its webhooks."""
    from appinstall.cli.demo_run import run_demo

    run_demo(data_dir, port, listen_port, account, once, timeout)
