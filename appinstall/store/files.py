"""The data folder and the SQLite file are the operator's alone: created 0700 and 0600 whatever the umask.

The database holds sealed secrets, token hashes and every tenant's messages, and the folder the master key file;
a default umask (022) would leave both readable by every user of the machine. Only what appinstall creates is
set: a folder or file that already exists keeps the mode its owner gave it (a backup group, say). SQLite gives
its ``-wal`` and ``-shm`` files the database file's mode, so they follow.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def private_folder(path: Path) -> None:
    """Create ``path`` (and missing parents, which get the umask's mode) unless it exists; ``path`` itself 0700."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it a moment ago
        path.mkdir()
        path.chmod(FOLDER_MODE)  # mkdir's mode is filtered by the umask; chmod's is not


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty file as a new database)."""
    private_folder(path.parent)
    with contextlib.suppress(FileExistsError):
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        os.fchmod(descriptor, FILE_MODE)
        os.close(descriptor)
