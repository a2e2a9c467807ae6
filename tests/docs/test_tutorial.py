"""docs/tutorial.md runs as written: its shell blocks, in order, in one bash session, against a real server.

The working directory stands for the reader's fresh clone: the project's environment is linked in as ``.venv``
and the example connector as ``examples``, and nothing else is there. The tutorial's fixed ports are swapped for
free ones, so that the test can run next to anything else on the machine.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.docs.shell_blocks import background_log, failed_block, script, shell_blocks
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
TUTORIAL = ROOT / "docs" / "tutorial.md"
WAIT_SECONDS = 30  # for each server, receiver or line the reader waits for
RUN_SECONDS = 120  # for the whole page


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


@contextmanager
def tutorial_session(work: Path) -> Iterator[tuple[int, str]]:
    """Run the page's blocks in ``work``: the exit code and everything the main terminal printed, while what the
    background blocks started still runs (a connector may still be answering); stopped when the block ends."""
    blocks = shell_blocks(TUTORIAL.read_text())
    fixed = sorted({block.port for block in blocks if block.port is not None})
    ports = dict(zip(fixed, free_ports(len(fixed)), strict=True))
    (work / "tutorial.sh").write_text(script(blocks, ports, WAIT_SECONDS))
    output = work / "output.txt"
    with output.open("wb") as sink:
        session = subprocess.Popen(
            ["bash", "tutorial.sh"],
            cwd=work,
            env=clean_environment(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        try:
            code = session.wait(timeout=RUN_SECONDS)
        except subprocess.TimeoutExpired:
            code = -1
        yield code, output.read_text()
    finally:
        stop_group(session.pid)


def report(work: Path, code: int, output: str) -> str:
    """What went wrong, for a person: which block, what the session printed, what each background block printed."""
    line = failed_block(output)
    block = next((block for block in shell_blocks(TUTORIAL.read_text()) if block.line == line), None)
    where = f"the block at line {line} of {TUTORIAL.name}:\n{block.code}" if block else "before the first block"
    verdict = "did not finish in time" if code == -1 else f"exited {code}"
    logs = "".join(f"\n--- {log.name}\n{log.read_text()}" for log in sorted(work.glob("background-*.log")))
    return f"the tutorial {verdict}, in {where}\n--- output\n{output}{logs}"


@pytest.fixture(scope="module")
def tutorial_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    """One run of the whole page, shared by the tests that check what it did."""
    venv = Path(sys.prefix)
    if not (venv / "bin" / "activate").exists():
        pytest.fail(f"the tutorial runs in the project's virtual environment; {venv} is not one (run `make test`)")
    work = tmp_path_factory.mktemp("clone")
    (work / ".venv").symlink_to(venv)
    (work / "examples").symlink_to(ROOT / "examples")
    with tutorial_session(work) as (code, output):
        yield work, code, output


def background_output(work: Path, command: str, text: str) -> str:
    """What the background block running ``command`` printed, once ``text`` is in it (it may still be coming)."""
    block = next(block for block in shell_blocks(TUTORIAL.read_text()) if command in block.code)
    log = work / background_log(block)
    deadline = time.monotonic() + WAIT_SECONDS
    while text not in (printed := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return printed


def finished(run: tuple[Path, int, str]) -> tuple[Path, str]:
    work, code, output = run
    if code != 0:
        pytest.fail("the tutorial did not run to the end: see test_every_block_of_the_tutorial_runs_as_written")
    return work, output


def test_every_block_of_the_tutorial_runs_as_written(tutorial_run: tuple[Path, int, str]) -> None:
    work, code, output = tutorial_run
    assert code == 0, report(work, code, output)


def test_the_readers_app_gets_what_listen_forwards(tutorial_run: tuple[Path, int, str]) -> None:
    work, _ = finished(tutorial_run)
    expected = "app got ms.MessagingEventNotification Hello from an agent"
    assert expected in background_output(work, "python app.py", expected)


def test_listen_prints_each_verified_delivery_with_the_apps_answer(tutorial_run: tuple[Path, int, str]) -> None:
    work, _ = finished(tutorial_run)
    expected = "#1 200 ContentEvent"
    assert expected in background_output(work, "appinstall listen", expected)


def test_the_delivery_log_lists_succeeded_deliveries(tutorial_run: tuple[Path, int, str]) -> None:
    _, output = finished(tutorial_run)
    assert "succeeded" in output


def test_the_example_connector_echoes_the_agent_and_stops_when_the_conversation_closes(
    tutorial_run: tuple[Path, int, str],
) -> None:
    work, _ = finished(tutorial_run)
    printed = background_output(work, "examples.echo_connector", "closed by AGENT")
    assert "consumer: echo: hi, how can I help?" in printed
    assert "closed by AGENT" in printed
