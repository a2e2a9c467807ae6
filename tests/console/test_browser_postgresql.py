"""The console on PostgreSQL, in Chromium: a server on the suite's PostgreSQL database runs the browser tests that
touch every room's writes and live updates (signing in and out, a delivery arriving live, the sandbox's chat).

The tests are the SQLite modules' own, imported: pytest runs them here with this module's ``console_server``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import ConsoleServer
from tests.console.test_browser_deliveries import (
    test_a_delivery_published_while_the_list_is_open_appears_on_top_without_a_reload as test_a_delivery_arrives_live,
)
from tests.console.test_browser_sandbox import receiver_url as receiver_url
from tests.console.test_browser_sandbox import (
    test_a_message_and_the_echo_agents_reply_appear_without_a_reload as test_the_echo_agent_answers_live,
)
from tests.console.test_browser_session import (
    test_a_user_signs_in_with_an_admin_key_and_out_again as test_a_user_signs_in_and_out,
)
from tests.live_server import live_server

__all__ = ["test_a_delivery_arrives_live", "test_a_user_signs_in_and_out", "test_the_echo_agent_answers_live"]


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory, postgres_database: str) -> Iterator[ConsoleServer]:
    """``appinstall serve --dev`` (API and worker) on the session's PostgreSQL database, with the echo agent."""
    environment = {"APPINSTALL_DATABASE_URL": postgres_database, "APPINSTALL_SANDBOX_AGENT": "echo"}
    with live_server(tmp_path_factory.mktemp("console-postgresql"), "--dev", **environment) as server:
        yield ConsoleServer(server)
