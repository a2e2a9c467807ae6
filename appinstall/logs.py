"""The servers' logs: one line per event, readable text by default or JSON (``--log-format json``), never a secret.

Everything goes through the standard library's ``logging`` (ours, uvicorn's, SQLAlchemy's warnings), rendered by
structlog: a UTC timestamp, the level, the logger, the event, then the event's fields (``installation=…``). Events
worth an operator's attention carry their fields as ``extra={...}`` so that a JSON line can be filtered on them.

Redaction is defence in depth: no code logs a secret on purpose, but a field named like one (``client_secret``,
``token``, ``authorization``, ``signature``…) is masked whatever its value, and the text of every line is scrubbed of
what looks like one of ours (operator tokens ``aio_…``, admin keys ``aik_…``, bearer credentials, JWTs, Standard
Webhooks secrets and signatures), so that an exception's message cannot leak one either.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["text", "json"]
REDACTED = "[redacted]"

_SECRET_FIELDS = re.compile(r"(secret|token|password|authorization|signature|api_key|master_key|cookie)$", re.I)
_SECRET_TEXT = re.compile(
    r"\b(?:aio|aik)_[A-Za-z0-9_-]{6,}"  # operator tokens and admin keys
    r"|\bwhsec_[A-Za-z0-9+/=]+"  # Standard Webhooks secrets
    r"|\bBearer\s+[^\s,;\"']+"  # bearer credentials
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWTs
    r"|\bv1,[A-Za-z0-9+/=]{20,}"  # Standard Webhooks signatures
    r"|\bsha(?:1|256)=[A-Za-z0-9+/=]{20,}",  # the platform's signatures
    re.I,
)


def scrub(text: str) -> str:
    """``text`` with every credential-looking part replaced."""
    return _SECRET_TEXT.sub(REDACTED, text)


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name, value in list(event.items()):
        if name == "event":
            event[name] = scrub(str(value))
        elif _SECRET_FIELDS.search(name):
            event[name] = REDACTED
        elif isinstance(value, str):
            event[name] = scrub(value)
    return event


def _uvicorn_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """uvicorn's access lines as fields too (client, method, path, status), and without its terminal colours."""
    event.pop("color_message", None)
    arguments = event.pop("positional_args", None)
    if event.get("logger") == "uvicorn.access" and isinstance(arguments, tuple) and len(arguments) == 5:
        client, method, path, _version, status = arguments
        event.update(client=client, method=method, path=path, status=status)
    return event


def _renderer(log_format: LogFormat) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False, pad_event_to=0, sort_keys=False)


_STAMP = structlog.processors.TimeStamper(fmt="iso", utc=True)


# A value structlog's console renderer writes as it is; any other it quotes (``repr``).
_QUOTED_IN_TEXT = re.compile(r"[ \t=\r\n\"']")


def _text_value(value: object) -> str:
    if isinstance(value, str) and _QUOTED_IN_TEXT.search(value) is None:
        return value
    return repr(value)


class _Formatter(structlog.stdlib.ProcessorFormatter):
    """structlog's formatter, with uvicorn's access lines (one a request) built straight into the line the chain
    would make (the same line, ``tests/test_logs.py`` compares them, text and JSON): in text 17 µs a line instead of
    33 through the whole chain, when a publish costs about 250 µs of CPU.

    Only what can hold a secret is scrubbed (the message, the client, the method, the path: the timestamp, the
    level and the logger's name are ours)."""

    def __init__(self, *arguments: Any, text: bool, **options: Any) -> None:
        super().__init__(*arguments, **options)
        self._text = text

    def format(self, record: logging.LogRecord) -> str:
        arguments = record.args
        if (
            record.name != "uvicorn.access"
            or record.exc_info
            or record.stack_info
            or not isinstance(arguments, tuple)
            or len(arguments) != 5
            or structlog.contextvars.get_contextvars()
        ):
            return str(super().format(record))
        client, method, path, _version, status = arguments
        level = record.levelname.lower()
        stamped = _STAMP(None, level, {})["timestamp"]
        message, client, method, path = (
            scrub(value) if isinstance(value, str) else value for value in (record.getMessage(), client, method, path)
        )
        if self._text:
            return (
                f"{stamped} [{level:<9}] {message} [{record.name}] client={_text_value(client)} "
                f"method={_text_value(method)} path={_text_value(path)} status={status!r}"
            )
        event = {"event": message, "level": level, "logger": record.name, "timestamp": stamped}
        event.update(client=client, method=method, path=path, status=status)
        rendered: Any = event
        for processor in self.processors[1:]:  # after remove_processors_meta: there is no meta here
            rendered = processor(None, level, rendered)
        return str(rendered)


def configure_logging(log_format: LogFormat = "text", level: int = logging.INFO) -> None:
    """Send every log record of this process to standard error, rendered as ``log_format``, from ``level`` up."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        _STAMP,
        structlog.processors.format_exc_info,
        _uvicorn_fields,
        _redact,
    ]
    formatter = _Formatter(
        text=log_format == "text",
        foreign_pre_chain=shared,
        pass_foreign_args=True,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _renderer(log_format)],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # uvicorn's own handlers would print twice
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
