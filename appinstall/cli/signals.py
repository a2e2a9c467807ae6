"""Stopping a long-running command cleanly on Ctrl-C or ``kill``."""

from __future__ import annotations

import asyncio
import contextlib
import signal


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM, so the command can finish what it holds instead of dying mid-step.

    Call it inside the running loop. On Windows, where the loop cannot take signal handlers, Ctrl-C arrives as
    ``KeyboardInterrupt`` instead.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    return stop
