"""docs/tutorial.md runs as written: its shell blocks, in order, in one bash session, against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.docs.page_session import ROOT, background_output, page_session, reader_clone, report

TUTORIAL = ROOT / "docs" / "tutorial.md"


@pytest.fixture(scope="module")
def tutorial_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    """One run of the whole page, shared by the tests that check what it did."""
    work = reader_clone(tmp_path_factory.mktemp("clone"))
    with page_session(TUTORIAL, work) as (code, output):
        yield work, code, output


def printed_by(work: Path, command: str, text: str) -> str:
    return background_output(TUTORIAL, work, command, text)


def finished(run: tuple[Path, int, str]) -> tuple[Path, str]:
    work, code, output = run
    if code != 0:
        pytest.fail("the tutorial did not run to the end: see test_every_block_of_the_tutorial_runs_as_written")
    return work, output


def test_every_block_of_the_tutorial_runs_as_written(tutorial_run: tuple[Path, int, str]) -> None:
    work, code, output = tutorial_run
    assert code == 0, report(TUTORIAL, work, code, output)


def test_the_readers_app_gets_what_listen_forwards(tutorial_run: tuple[Path, int, str]) -> None:
    work, _ = finished(tutorial_run)
    expected = "app got ms.MessagingEventNotification Hello from an agent"
    assert expected in printed_by(work, "python app.py", expected)


def test_listen_prints_each_verified_delivery_with_the_apps_answer(tutorial_run: tuple[Path, int, str]) -> None:
    work, _ = finished(tutorial_run)
    expected = "#1 200 ContentEvent"
    assert expected in printed_by(work, "appinstall listen", expected)


def test_the_delivery_log_lists_succeeded_deliveries(tutorial_run: tuple[Path, int, str]) -> None:
    _, output = finished(tutorial_run)
    assert "succeeded" in output


def test_the_example_connector_echoes_the_agent_and_stops_when_the_conversation_closes(
    tutorial_run: tuple[Path, int, str],
) -> None:
    work, _ = finished(tutorial_run)
    printed = printed_by(work, "examples.echo_connector", "closed by AGENT")
    assert "consumer: echo: hi, how can I help?" in printed
    assert "closed by AGENT" in printed
