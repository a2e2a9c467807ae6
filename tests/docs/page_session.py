"""Running a page's shell blocks as a reader would: in order, in one bash session, in a fresh working directory.

The working directory stands for the reader's clone: the project's environment is linked in as ``.venv`` and the
example connector as ``examples``, and nothing else is there. The page's fixed ports are swapped for free ones, so
that a page can run next to anything else on the machine.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.docs.shell_blocks import Block, background_log, failed_block, script, shell_blocks
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30  # for each server, receiver or line the reader waits for

# The reference pages' curl examples show only the body of the answer (-s); a reader sees an error in it, the test
# needs the exit code: every curl of the session fails on an HTTP error status, and the answer ends its line.
STRICT_CURL = 'curl() { command curl --fail-with-body --show-error "$@"; echo; }\n'


def free_ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


def stop_group(group: int) -> None:
    """Stop the session's processes, the background ones too: they share its process group."""
    for sig, seconds in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def clean_environment() -> dict[str, str]:
    """This process's environment without the appinstall settings a developer may have exported."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("APPINSTALL_")}
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"  # background output goes to files: show it as it comes, as a terminal would
    return env


def reader_clone(work: Path) -> Path:
    """``work`` made to look like a fresh clone with its environment created (``make .venv/bin/.installed``)."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").exists():
        pytest.fail(f"the docs run in the project's virtual environment; {venv} is not one (run `make test`)")
    (work / ".venv").symlink_to(venv)
    (work / "examples").symlink_to(ROOT / "examples")
    return work


def given(variables: Mapping[str, str]) -> str:
    """The exports a page assumes its reader has made (``HOST``, ``KEY``…), as the session's first lines."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())


@contextmanager
def page_session(
    page: Path,
    work: Path,
    *,
    exported: Mapping[str, str] | None = None,
    replacing: Mapping[str, str] | None = None,
    strict_curl: bool = False,
    run_seconds: int = 120,
) -> Iterator[tuple[int, str]]:
    """Run ``page``'s blocks in ``work``: the exit code and everything the main terminal printed, while what the
    background blocks started still runs (a connector may still be answering); stopped when the block ends.

    ``exported`` are the variables the page assumes set; ``replacing`` maps the page's example values (a delivery
    id) to the real ones of the server the session talks to."""
    blocks = shell_blocks(page.read_text())
    fixed = sorted({block.port for block in blocks if block.port is not None})
    ports = dict(zip(fixed, free_ports(len(fixed)), strict=True))
    prelude = given(exported or {}) + (STRICT_CURL if strict_curl else "")
    text = script(blocks, ports, WAIT_SECONDS, prelude=prelude)
    for example, real in (replacing or {}).items():
        text = text.replace(example, real)
    (work / "page.sh").write_text(text)
    output = work / "output.txt"
    with output.open("wb") as sink:
        session = subprocess.Popen(
            ["bash", "page.sh"],
            cwd=work,
            env=clean_environment(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            code = session.wait(timeout=run_seconds)
        except subprocess.TimeoutExpired:
            code = -1
        yield code, output.read_text()
    finally:
        stop_group(session.pid)


def report(page: Path, work: Path, code: int, output: str) -> str:
    """What went wrong, for a person: which block, what the session printed, what each background block printed."""
    line = failed_block(output)
    block = next((block for block in shell_blocks(page.read_text()) if block.line == line), None)
    where = f"the block at line {line} of {page.name}:\n{block.code}" if block else "before the first block"
    verdict = "did not finish in time" if code == -1 else f"exited {code}"
    logs = "".join(f"\n--- {log.name}\n{log.read_text()}" for log in sorted(work.glob("background-*.log")))
    return f"{page.name} {verdict}, in {where}\n--- output\n{output}{logs}"


def background_block(page: Path, command: str) -> Block:
    return next(block for block in shell_blocks(page.read_text()) if command in block.code)


def background_output(page: Path, work: Path, command: str, text: str) -> str:
    """What the background block running ``command`` printed, once ``text`` is in it (it may still be coming)."""
    log = work / background_log(background_block(page, command))
    deadline = time.monotonic() + WAIT_SECONDS
    while text not in (printed := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return printed
