"""Whether ``appinstall --debug`` was given: set by the root command, read where start-up errors are printed.

A module of its own so that setting it, which every invocation does, loads nothing else (``startup_errors`` brings
in the store and the settings, which ``appinstall listen`` or ``validate`` do not need).
"""

from __future__ import annotations


class Debug:
    """Whether to show the traceback of a start-up or configuration error too."""

    on = False


def set_debug(on: bool) -> None:
    Debug.on = on
