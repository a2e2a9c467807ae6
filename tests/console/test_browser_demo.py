"""What a new user does first: `make run` (``appinstall demo``), open the printed link, see it in the console."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import SEED
from tests.live_server import free_port

_LINK = re.compile(r"console\s+(http://\S+/console/sign-in/link\?token=\S+)")


@pytest.fixture(scope="module")
def demo_link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``appinstall demo`` left running, as ``make run`` leaves it; the console link it printed."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    environment = {name: value for name, value in os.environ.items() if not name.startswith("APPINSTALL_")}
    output = data_dir.parent / "demo.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "appinstall", "demo", "--port", str(free_port()), "--data-dir", str(data_dir)],
            env=environment,
            cwd=data_dir.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while "keeps running" not in output.read_text():
            assert process.poll() is None and time.monotonic() < deadline, output.read_text()
            time.sleep(0.2)
        found = _LINK.search(output.read_text())
        assert found, output.read_text()
        yield found.group(1)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_demos_link_shows_its_installation_deliveries_and_conversation(demo_link: str, page: Any) -> None:
    page.goto(demo_link)
    page.get_by_role("button", name="Continue to the console").click()
    page.wait_for_url("**/console/accounts/demo/installations")
    assert page.get_by_role("link", name=SEED["client_name"]).is_visible()
    page.get_by_role("link", name="Deliveries").click()
    page.wait_for_url("**/console/accounts/demo/deliveries")
    rows = page.locator("tbody tr[data-id]")
    assert rows.count() >= 6  # the demo's six notifications, each delivered to its one app
    assert "succeeded" in rows.first.inner_text()
    page.get_by_role("link", name="Sandbox").click()
    page.locator("a[href*='sandbox?conversation=']").first.click()  # the demo's conversation, the only one
    page.wait_for_url("**/sandbox?conversation=*")
    assert page.get_by_text("hello", exact=True).first.is_visible()
