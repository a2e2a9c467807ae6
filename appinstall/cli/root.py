"""The whole ``appinstall`` command tree, for ``--help``, shell completion and the tests' in-process runner."""

from __future__ import annotations

from appinstall.cli.commands import build

app = build()
