"""How a page's shell blocks are read and turned into one script (pure: no shell is run here)."""

from __future__ import annotations

import pytest

from tests.docs.shell_blocks import Block, BlockError, failed_block, script, shell_blocks, with_ports

PAGE = """# A page

```sh norun
make .venv/bin/.installed
```

```sh background port=8080 ready="serving on"
appinstall serve --port 8080
```

```text
serving on http://127.0.0.1:8080
```

```sh after="UPSERT CLOSE"
appinstall deliveries list my-connector
```

```python
print("not shell")
```
"""


def test_only_sh_blocks_are_read_in_page_order() -> None:
    assert [block.line for block in shell_blocks(PAGE)] == [3, 7, 15]


def test_a_block_without_a_mode_runs_in_sequence() -> None:
    assert shell_blocks("```sh\necho hi\n```\n") == [Block(line=1, code="echo hi\n")]


def test_a_background_block_says_how_to_know_it_is_up() -> None:
    background = shell_blocks(PAGE)[1]
    assert (background.mode, background.port, background.ready) == ("background", 8080, "serving on")


def test_a_block_may_wait_for_what_another_terminal_prints() -> None:
    assert shell_blocks(PAGE)[2].after == "UPSERT CLOSE"


def test_an_unknown_word_in_the_info_string_is_an_error_not_a_skipped_block() -> None:
    with pytest.raises(BlockError, match="line 1: 'norn' is not a mode"):
        shell_blocks("```sh norn\nrm -rf data\n```\n")


def test_a_background_block_without_port_or_ready_is_an_error() -> None:
    with pytest.raises(BlockError, match="needs port= or ready="):
        shell_blocks("```sh background\nappinstall serve\n```\n")


def test_ports_are_replaced_where_they_stand_alone() -> None:
    code = "serve --port 8080; curl http://127.0.0.1:8080/hook; echo 180801 8080x v8080"
    assert with_ports(code, {8080: 50123}) == (
        "serve --port 50123; curl http://127.0.0.1:50123/hook; echo 180801 8080x v8080"
    )


def test_norun_blocks_are_left_out_of_the_script() -> None:
    assert "make .venv/bin/.installed" not in script(shell_blocks(PAGE), {8080: 50123}, wait_seconds=5)


def test_a_background_block_runs_behind_and_the_script_waits_for_it() -> None:
    lines = script(shell_blocks(PAGE), {8080: 50123}, wait_seconds=5).splitlines()
    start = lines.index("appinstall serve --port 50123")
    assert lines[start + 1] == ") > background-7.log 2>&1 &"
    assert lines[start + 2].startswith("up 50123 5 ||")
    assert lines[start + 3].startswith("printed 'serving on' 5 background-7.log ||")


def test_a_block_waits_in_the_background_logs_before_it_runs() -> None:
    lines = script(shell_blocks(PAGE), {8080: 50123}, wait_seconds=5).splitlines()
    assert lines[lines.index("appinstall deliveries list my-connector") - 1].startswith(
        "printed 'UPSERT CLOSE' 5 background-7.log ||"
    )


def test_the_failed_block_is_the_last_one_the_script_announced() -> None:
    assert failed_block(">>> block at line 7\nserving\n>>> block at line 15\nerror: refused\n") == 15


def test_no_failed_block_before_the_first_one_starts() -> None:
    assert failed_block("bash: syntax error") is None
