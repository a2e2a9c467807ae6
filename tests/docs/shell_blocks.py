"""A page's shell blocks, and the one bash script that runs them in order as a reader would.

The info string of a fenced block starts with ``sh`` (so that renderers highlight it); what follows says how the
reader runs it, since the page cannot otherwise tell "type this here" from "leave this running in another terminal":

- ```` ```sh ```` runs in sequence, in the reader's main terminal;
- ```` ```sh background port=8080 ready="text" after="text" ```` is a long-running command (a server, a receiver)
  in a terminal of its own: it runs in the background, and the next block waits until ``port`` answers and
  ``ready`` is in its output;
- ```` ```sh norun ```` is shown, not run (setting up the clone, which the test has done);
- ``after="text"`` on any block waits, before running it, until a background block has printed ``text``: what the
  reader looks for in another terminal before typing on.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass

MODES = ("run", "background", "norun")
FENCE = re.compile(r"^```(?P<info>.*)$")


class BlockError(ValueError):
    """A block's info string the runner does not understand: a typo there would silently skip a command."""


@dataclass(frozen=True)
class Block:
    line: int  # of the opening fence, 1-based: where a failure points the reader
    code: str
    mode: str = "run"
    port: int | None = None
    ready: str | None = None
    after: str | None = None


def parse_block(info: str, line: int, code: str) -> Block:
    """The block of ``code`` under the info string ``sh …`` on ``line``."""
    mode, options = "run", {}
    for word in shlex.split(info)[1:]:
        name, equals, value = word.partition("=")
        if not equals and name in MODES:
            mode = name
        elif equals and name in ("port", "ready", "after"):
            options[name] = value
        else:
            raise BlockError(f"line {line}: {word!r} is not a mode ({', '.join(MODES)}) nor port=, ready=, after=")
    if mode == "background" and "port" not in options and "ready" not in options:
        raise BlockError(f"line {line}: a background block needs port= or ready= to know when it is up")
    port = options.get("port")
    return Block(
        line=line,
        code=code,
        mode=mode,
        port=int(port) if port is not None else None,
        ready=options.get("ready"),
        after=options.get("after"),
    )


def shell_blocks(markdown: str) -> list[Block]:
    """Every fenced block whose info string starts with the word ``sh``, in page order."""
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        info, start = opening["info"].strip(), index
        index += 1
        body: list[str] = []
        while index < len(lines) and lines[index] != "```":
            body.append(lines[index])
            index += 1
        index += 1  # the closing fence
        if info.split(" ", 1)[0] == "sh":
            blocks.append(parse_block(info, start + 1, "\n".join(body) + "\n"))
    return blocks


def with_ports(code: str, ports: Mapping[int, int]) -> str:
    """``code`` with each fixed port of the page replaced by the one the test found free."""
    for fixed, free in ports.items():
        code = re.sub(rf"(?<![\w.-]){fixed}(?![\w-])", str(free), code)
    return code


PRELUDE = r"""set -euo pipefail
up() {  # port seconds: whether something accepts connections on 127.0.0.1:port within the time
  local tries=$(( $2 * 10 ))
  while (( tries-- > 0 )); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
printed() {  # text seconds file…: whether text appears in one of the files within the time
  local text=$1 tries=$(( $2 * 10 )); shift 2
  while (( tries-- > 0 )); do
    if grep -qF -- "$text" "$@" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}
"""


def background_log(block: Block) -> str:
    return f"background-{block.line}.log"


def script(blocks: list[Block], ports: Mapping[int, int], wait_seconds: int, prelude: str = "") -> str:
    """One bash script running ``blocks`` in order; before each, a marker line says which block it is.

    ``prelude`` runs first (what the page assumes its reader has done). Background blocks write to
    ``background-<line>.log`` in the working directory."""
    parts = [PRELUDE, prelude]
    logs: list[str] = []
    for block in blocks:
        if block.mode == "norun":
            continue
        code = with_ports(block.code, ports)
        parts.append(f"echo '>>> block at line {block.line}'\n")
        if block.after is not None:
            text = shlex.quote(block.after)
            where = " ".join(logs) or "/dev/null"
            parts.append(
                f"printed {text} {wait_seconds} {where} || "
                f"{{ echo 'waited {wait_seconds} s for '{text}' in another terminal'; exit 1; }}\n"
            )
        if block.mode == "run":
            parts.append(code)
            continue
        log = background_log(block)
        logs.append(log)
        parts.append(f"(\n{code}) > {log} 2>&1 &\n")
        if block.port is not None:
            port = ports.get(block.port, block.port)
            parts.append(
                f"up {port} {wait_seconds} || {{ echo 'nothing answers on port {port}:'; cat {log}; exit 1; }}\n"
            )
        if block.ready is not None:
            text = shlex.quote(block.ready)
            parts.append(
                f"printed {text} {wait_seconds} {log} || {{ echo 'not printed: '{text}; cat {log}; exit 1; }}\n"
            )
    return "".join(parts)


MARKER = re.compile(r"^>>> block at line (\d+)$", re.MULTILINE)


def failed_block(output: str) -> int | None:
    """The line of the last block the script started, from its markers."""
    lines = MARKER.findall(output)
    return int(lines[-1]) if lines else None
