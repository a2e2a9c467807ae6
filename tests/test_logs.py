"""Log lines: text or JSON, an event's fields kept, and nothing that looks like a credential ever printed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from appinstall.logs import REDACTED, configure_logging, scrub


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def logged(capsys: pytest.CaptureFixture[str], message: str, **fields: object) -> str:
    logging.getLogger("appinstall.test").warning(message, extra=fields)
    return capsys.readouterr().err


@pytest.mark.usefixtures("restore_logging")
def test_a_json_line_carries_the_event_its_level_logger_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    line = json.loads(logged(capsys, "attempt failed", installation="i1", status=500))
    assert (line["event"], line["level"], line["logger"]) == ("attempt failed", "warning", "appinstall.test")
    assert (line["installation"], line["status"]) == ("i1", 500)
    assert line["timestamp"].endswith("Z")


@pytest.mark.usefixtures("restore_logging")
def test_a_text_line_reads_as_the_event_then_its_fields(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("text")
    line = logged(capsys, "webhook disabled", installation="i1", event_type="ContentEvent")
    assert "webhook disabled" in line
    assert "installation=i1 event_type=ContentEvent" in line
    assert line.count("\n") == 1


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("field", ["client_secret", "token", "authorization", "signature", "master_key", "cookie"])
def test_a_field_named_like_a_secret_is_masked_whatever_its_value(
    capsys: pytest.CaptureFixture[str], field: str
) -> None:
    configure_logging("json")
    line = json.loads(logged(capsys, "x", **{field: "s3cr3t-value"}))
    assert line[field] == REDACTED
    assert "s3cr3t-value" not in json.dumps(line)


@pytest.mark.parametrize(
    "secret",
    [
        "aio_AbCdEf0123456789",
        "aik_AbCdEf0123456789",
        "Bearer abc.def",
        "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
        "whsec_c2VjcmV0c2VjcmV0",
        "v1,bY4O2fuPQBwrUOTxDQj8eU9A7ro4HZ92kvSBmPtWsXM=",
        "sha1=rgd8k1uqiODBxyEDP2EQnQ7GrIw=",
    ],
)
def test_text_that_looks_like_a_credential_is_scrubbed(secret: str) -> None:
    assert scrub(f"refused {secret} at the door") == f"refused {REDACTED} at the door"


def test_ordinary_text_is_left_alone() -> None:
    text = "delivery msg_5f0c3d9e8a7b4c2d9e1f0a6b3c8d7e2f to installation 0f8e5b2c answered 500"
    assert scrub(text) == text


@pytest.mark.usefixtures("restore_logging")
def test_an_exceptions_text_is_scrubbed_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    try:
        raise ValueError("bad key aik_AbCdEf0123456789")
    except ValueError:
        logging.getLogger("appinstall.test").exception("failed")
    line = json.loads(capsys.readouterr().err)
    assert "aik_AbCdEf0123456789" not in json.dumps(line)
    assert "ValueError" in line["exception"]


def _access_record(path: str) -> logging.LogRecord:
    """A request's line as uvicorn logs it (``httptools_impl``: client, method, path, HTTP version, status)."""
    arguments = ("127.0.0.1:5555", "POST", path, "1.1", 202)
    return logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', arguments, None
    )


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/account/a1/notifications",
        "/sentinel/api/account/a1/aio_secret12345/x",
        '/api/a b/"q"=x',  # quoted in text
        "/api/it's/été\ttab",
    ],
)
def test_an_access_line_is_the_line_the_whole_chain_makes(log_format: str, path: str) -> None:
    configure_logging(log_format)  # type: ignore[arg-type]
    [handler] = logging.getLogger().handlers
    formatter = handler.formatter
    assert formatter is not None
    fast = formatter.format(_access_record(path))
    chained = super(type(formatter), formatter).format(_access_record(path))  # structlog's own, every step
    without_time = (
        (lambda line: {key: value for key, value in json.loads(line).items() if key != "timestamp"})
        if log_format == "json"
        else (lambda line: line.split(" ", 1)[1])
    )
    assert without_time(fast) == without_time(chained)
    assert "aio_secret12345" not in fast
