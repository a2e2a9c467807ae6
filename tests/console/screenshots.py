"""Take the screenshots of ``docs/console.md`` from a running ``appinstall demo``, in Chromium.

Run ``.venv/bin/python -m tests.console.screenshots`` from the repository; it writes ``docs/console/*.png``. Not a
test: pictures change with every style edit, and are looked at by people, not compared by a machine.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "console"
_LINK = re.compile(r"console\s+(http://\S+/console/sign-in/link\?token=\S+)")
_OPERATOR = re.compile(r"APPINSTALL_OPERATOR_TOKEN=(aio_\S+)")
_INSTALLATION = re.compile(r'href="(/console/accounts/demo/installations/[0-9a-f-]{36})"')
_DELIVERY = re.compile(r'href="(/console/accounts/demo/[^"]*deliveries/msg_[0-9a-f]+)"')


@contextmanager
def demo() -> Iterator[tuple[str, str, str]]:
    """``appinstall demo`` on a fresh data folder: its server URL, the console link and the operator token it
    printed (a first start prints the token it generated)."""
    with tempfile.TemporaryDirectory(prefix="appinstall-screenshots-") as folder:
        port = free_port()
        environment = {name: value for name, value in os.environ.items() if not name.startswith("APPINSTALL_")}
        log = Path(folder) / "demo.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "appinstall", "demo", "--port", str(port), "--data-dir", f"{folder}/data"],
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 90
            while "keeps running" not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the demo did not start:\n{log.read_text()}")
                time.sleep(0.2)
            found, operator = _LINK.search(log.read_text()), _OPERATOR.search(log.read_text())
            assert found and operator, log.read_text()
            yield f"http://127.0.0.1:{port}", found.group(1), operator.group(1)
        finally:
            process.terminate()
            process.wait(timeout=20)


def shoot(page: Any, name: str, url: str, before: Callable[[Any], None] | None = None) -> None:
    page.goto(url)
    if before is not None:
        before(page)
    page.wait_for_timeout(300)  # live parts (times, polled rows) settle
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"docs/console/{name}.png  {url}")


def chat(page: Any) -> None:
    """Open a conversation as the console's consumer and write: the echo agent answers, the webhooks go out."""
    page.get_by_role("button", name="Open a new conversation").click()
    box = page.get_by_label("Message as the consumer")
    box.fill("Is my order on its way?")
    box.press("Enter")
    page.get_by_text("Is my order on its way?").nth(1).wait_for(timeout=15_000)  # the echo agent's reply
    page.wait_for_timeout(2500)  # its deliveries recorded and polled


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with demo() as (server, link, operator_token), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        shoot(page, "sign-in", f"{server}/console/sign-in")
        page.goto(link)
        page.get_by_role("button", name="Continue to the console").click()
        page.wait_for_url("**/installations")
        base = f"{server}/console/accounts/demo"
        shoot(page, "installations", f"{base}/installations")
        installation = _INSTALLATION.search(page.content())
        if installation:
            shoot(page, "installation", server + installation.group(1))
            shoot(page, "webhooks", server + installation.group(1) + "/webhooks")
        shoot(page, "install", f"{base}/installations/new")
        shoot(page, "deliveries", f"{base}/deliveries")
        delivery = _DELIVERY.search(page.content())
        if delivery:
            shoot(page, "delivery", server + delivery.group(1))
        shoot(page, "sandbox", f"{base}/sandbox", chat)
        shoot(page, "keys", f"{base}/keys")
        operator = browser.new_page(viewport={"width": 1280, "height": 800})
        operator.goto(f"{server}/console/sign-in")
        operator.get_by_label("Admin key or operator token").fill(operator_token)
        operator.get_by_role("button", name="Sign in").click()
        operator.wait_for_url("**/console/accounts")
        shoot(operator, "accounts", f"{server}/console/accounts")
        shoot(operator, "signing-keys", f"{server}/console/signing-keys")
        browser.close()


if __name__ == "__main__":
    main()
