"""``appinstall listen`` as a real process, and requests signed as the worker signs them: for the tests of listen,
forward and trigger."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from appinstall.connector.signing import ATTEMPT_HEADER, signature_headers
from tests.live_server import free_port

SECRET = "rl9hacst6kqilbofup64n11ga3"


@dataclass
class RunningListener:
    url: str
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def wait_for(self, text: str, stream: str = "stdout", timeout: float = 10) -> str:
        """What the process printed on ``stream``, once ``text`` is in it."""
        path = self.stdout if stream == "stdout" else self.stderr
        deadline = time.monotonic() + timeout
        while text not in (printed := path.read_text()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not printed on {stream}:\n{printed}\n{self.stderr.read_text()}")
            time.sleep(0.05)
        return printed

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=15)


@contextmanager
def listening(directory: Path, *options: str, port: int | None = None) -> Iterator[RunningListener]:
    """``appinstall listen`` on ``port`` (else a free one) until the block ends; ready once it says it is listening."""
    port = port or free_port()
    directory.mkdir(parents=True, exist_ok=True)
    stdout, stderr = directory / "stdout.txt", directory / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "listen", "--port", str(port), *options], stdout=out, stderr=err
        )
    listener = RunningListener(f"http://127.0.0.1:{port}", process, stdout, stderr)
    try:
        listener.wait_for("listening on", "stderr", timeout=30)
        yield listener
    finally:
        listener.stop()


def signed(body: bytes, secret: str = SECRET, message_id: str = "msg_listen", attempt: int = 1) -> dict[str, str]:
    """The headers the worker sends with ``body``: identity, both signatures and the attempt's number."""
    headers = signature_headers(
        account_id="123", client_id="c", secrets=[secret], message_id=message_id, timestamp=int(time.time()), body=body
    )
    return {**headers, ATTEMPT_HEADER: str(attempt)}
