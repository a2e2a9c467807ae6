"""What no request may carry, found before any route reads it: pure checks of URL, form and JSON input.

Each class here once answered 500, because a store or an encoder refused it far from where it came in:
PostgreSQL refuses NUL in text; neither engine can store a lone surrogate (it is not Unicode text, so it cannot be
encoded as UTF-8); a JSON body nested thousands deep exhausts the recursion limit of whatever walks it; integers past
64 bits overflow a BIGINT column and 5,000-digit ones exceed Python's ``int`` conversion limit; ``1e999`` parses as
infinity, which no JSON encoder writes back. Refused at the edge, each is a 400 that names where it is.

The JSON check is two-staged so that ordinary bodies pay almost nothing: byte scans in C decide whether a body
could hold any of these (an escape, a NUL, a long run of digits, a big exponent, more brackets than the depth
allowed); only then is it parsed here and walked, to name the first offending value by its JSON pointer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from appinstall.manifest.errors import Problem, pointer

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects in a request body. The platform's deepest documents (rich content, the
manifest's webhook headers) stay under 20; a limit far below the interpreter's recursion limit keeps every later
walk of the document safe."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
"""The range of integers a request may carry: what a BIGINT column (on both engines) can hold."""

_MAX_INT_DIGITS = len(str(INT64_MAX))
TEXT_HINT = "send Unicode text as UTF-8, without NUL (U+0000) and without unpaired surrogates (U+D800 to U+DFFF)"


@dataclass(frozen=True)
class Finding:
    """The first thing wrong with a part of the request, as a problem with a pointer: ``/query/cursor``,
    ``/form/client_id``, ``/path``, ``/body/changes/0/event/message``."""

    problem: Problem

    @property
    def detail(self) -> str:
        return f"{self.problem.pointer.lstrip('/') or 'the request'}: {self.problem.message}; {self.problem.hint}"


def text_problem(text: str) -> tuple[str, str] | None:
    """``(code, message)`` if ``text`` holds a NUL or a lone surrogate, else None."""
    if "\x00" in text:
        return "nul_character", f"contains a NUL character (U+0000) at index {text.index(chr(0))}"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        return "lone_surrogate", f"contains a lone surrogate (U+{ord(text[error.start]):04X}) at index {error.start}"
    return None


def bytes_text_problem(raw: bytes) -> tuple[str, str] | None:
    """``(code, message)`` if ``raw`` is not UTF-8 (an encoded surrogate is not) or holds a NUL, else None."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return "invalid_utf8", f"is not UTF-8 (bad byte at offset {error.start})"
    return text_problem(text)


def checked_text(text: str, where: str) -> Finding | None:
    found = text_problem(text)
    return None if found is None else Finding(Problem(where, found[0], found[1], TEXT_HINT))


def urlencoded_problem(raw: bytes, part: str) -> Finding | None:
    """The first parameter of a query string or form body (``a=1&b=2``) that is not clean text, once decoded."""
    if raw.isascii() and b"%" not in raw and b"\x00" not in raw:
        return None  # nothing percent-encoded, nothing outside ASCII: nothing to find
    for item in raw.split(b"&"):
        name, _, value = item.partition(b"=")
        decoded_name = unquote_to_bytes(name.replace(b"+", b" "))
        label = decoded_name.decode("utf-8", "replace").replace("\x00", "\\0")
        for piece in (decoded_name, unquote_to_bytes(value.replace(b"+", b" "))):
            found = bytes_text_problem(piece)
            if found is not None:
                return Finding(Problem(pointer([part, label]), found[0], found[1], TEXT_HINT))
    return None


def path_problem(path: str, raw_path: bytes | None) -> Finding | None:
    """NUL, lone surrogates or bytes that are not UTF-8 in the path (``raw_path`` is it before percent-decoding)."""
    if raw_path is not None:
        raw = raw_path.partition(b"?")[0]
        if raw.isascii() and b"%" not in raw and b"\x00" not in raw:
            return None  # the path is this, decoded: nothing to find in it either
        found = bytes_text_problem(unquote_to_bytes(raw))
        if found is not None:
            return Finding(Problem("/path", found[0], found[1], TEXT_HINT))
    return checked_text(path, "/path")


# --- JSON bodies -----------------------------------------------------------------------------------------------

_NUMBER_SHAPES = bytes.maketrans(b"0123456789Ee-", b"0000000000ee+")
_LONG_DIGITS = b"0" * _MAX_INT_DIGITS
_RISKY_ESCAPES = (b"\\u0000", *(b"\\ud" + bytes([digit]) for digit in b"89abcdef"))


_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")


def _outside_strings(body: bytes) -> bytes:
    """The body without what its strings hold (each string left as ``""``).

    Byte operations in C, not a regular expression (four times slower on a batch of a thousand notifications):
    escaped backslashes, then escaped quotes, are dropped (left to right, as a parser pairs them), and every other
    quote then opens or closes a string. Exact for JSON; what is not JSON the route refuses anyway."""
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    return b'""'.join(body.split(b'"')[0::2])


def _nests_deeper(outside: bytes) -> bool:
    """Whether brackets (of a body without its strings) may nest more than ``MAX_JSON_DEPTH`` deep, or do not pair
    up.

    Each replace takes out the pairs of one kind that are empty when it starts (it does not look at what it makes),
    so it lowers the deepest nesting by one at most: brackets left after ``MAX_JSON_DEPTH`` replaces may nest
    deeper (the parse then decides). A batch of a thousand notifications, thousands of brackets alternating arrays
    and objects five deep, takes ten replaces in C instead of a loop over each bracket."""
    brackets = outside.translate(None, _NOT_A_BRACKET)
    for call in range(MAX_JSON_DEPTH):
        if not brackets:
            return False
        brackets = brackets.replace(b"{}" if call % 2 else b"[]", b"")
    return bool(brackets)


def _could_be_refused(body: bytes) -> bool:
    """Whether a body could hold a NUL or surrogate escape (``\\u0000``, ``\\ud800``; an emoji's escaped pair
    too), a non-JSON constant, as many digits in a row as a 64-bit integer has, a three-digit exponent (``1e999``),
    or arrays and objects nested more than ``MAX_JSON_DEPTH`` deep.

    Substring searches, with the digits mapped to ``0``: a regular expression trying each alternative at each byte
    took several times longer. Escapes of other characters (``\\u00e9``) do not count: Python's ``json.dumps``
    writes every non-ASCII character so by default. Never fewer than ``MAX_JSON_DEPTH`` brackets cannot nest too
    deep.
    """
    if b"\\u" in body:
        lowered = body.lower()
        if any(escape in lowered for escape in _RISKY_ESCAPES):
            return True
    many_brackets = body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH
    if not many_brackets and not _number_risk(body):  # a small body's own risk, asked before stripping it
        return False
    # Numbers, constants and brackets count outside strings, where the platform's hex ids (``"0ab3e000…"``) look
    # like long numbers or exponents to these searches, and a message's brackets are text: what the whole body
    # raised is asked again of the body without its strings.
    outside = _outside_strings(body)
    return _number_risk(outside) or (many_brackets and _nests_deeper(outside))


def _number_risk(body: bytes) -> bool:
    if b"NaN" in body or b"Infinity" in body:
        return True
    shapes = body.translate(_NUMBER_SHAPES)
    return _LONG_DIGITS in shapes or b"e000" in shapes or b"e+000" in shapes


class _Object(list[tuple[str, Any]]):
    """An object as the parse met it, every pair kept: a key given twice is checked in both places, since a parser
    that keeps the first one would otherwise store what the walk never saw."""


class _OutOfRange:
    """A number the parse met that no route can take: kept in place so the walk can say where it is."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason


def _parse_int(text: str) -> int | _OutOfRange:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _OutOfRange(text, f"is an integer of {len(text.lstrip('-'))} digits")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        return _OutOfRange(text, "is an integer outside the 64-bit range")
    return value


def _parse_float(text: str) -> float | _OutOfRange:
    value = float(text)
    return value if math.isfinite(value) else _OutOfRange(text, "is a number too large to represent")


def _parse_constant(text: str) -> _OutOfRange:
    return _OutOfRange(text, f"is {text}, which JSON does not allow")


def _out_of_range(where: list[str | int], value: _OutOfRange) -> Finding:
    shown = value.text if len(value.text) <= 24 else value.text[:20] + "…"
    return Finding(
        Problem(
            pointer(where),
            "number_out_of_range",
            f"{value.reason} ({shown})",
            f"send integers from {INT64_MIN} to {INT64_MAX} and finite numbers; send longer numbers as strings",
        )
    )


def _too_deep(where: list[str | int]) -> Finding:
    return Finding(
        Problem(
            pointer(where),
            "too_deep",
            f"is nested more than {MAX_JSON_DEPTH} arrays or objects deep",
            "flatten the document",
        )
    )


def _shown(key: str) -> str:
    """A key as a pointer can show it in a JSON answer: a lone surrogate written as its escape."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _walk(document: Any) -> Finding | None:
    """The first value, key or nesting too deep that the body may not carry, walked without recursion."""
    stack: list[tuple[Any, list[str | int]]] = [(document, ["body"])]
    while stack:
        value, where = stack.pop()
        if isinstance(value, list) and len(where) > MAX_JSON_DEPTH:  # an array or an _Object, already this deep
            return _too_deep(where)
        if isinstance(value, str):
            found = checked_text(value, pointer(where))
            if found is not None:
                return found
        elif isinstance(value, _OutOfRange):
            return _out_of_range(where, value)
        elif isinstance(value, _Object):
            for key, _ in value:
                found = checked_text(key, pointer([*where, _shown(key)]))
                if found is not None:
                    problem = found.problem
                    return Finding(Problem(problem.pointer, problem.code, "its key " + problem.message, TEXT_HINT))
            stack.extend((item, [*where, key]) for key, item in reversed(value))
        elif isinstance(value, list):
            stack.extend((item, [*where, index]) for index, item in reversed(list(enumerate(value))))
    return None


def json_body_problem(body: bytes) -> Finding | None:
    """The first thing in a JSON request body that no route may be given, or None.

    A body that is not JSON at all passes: the route says what it expected. A body that is not UTF-8 does not
    (RFC 8259 §8.1): decoded any other way it could smuggle a surrogate past these checks.
    """
    if b"\x00" in body:  # never in UTF-8 JSON, and UTF-16 or UTF-32 (which json.loads would take) is full of them
        message = f"contains a NUL byte at offset {body.index(0)}: JSON is sent as UTF-8"
        return Finding(Problem("/body", "nul_character", message, TEXT_HINT))
    if not body.isascii():
        try:
            body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            message = f"is not UTF-8 (bad byte at offset {error.start})"
            return Finding(Problem("/body", "invalid_utf8", message, TEXT_HINT))
    if not _could_be_refused(body):
        return None
    try:
        document = json.loads(
            body.decode("utf-8-sig"),
            object_pairs_hook=_Object,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except RecursionError:
        return _too_deep(["body"])
    except ValueError:
        return None  # not JSON: the route answers that
    return _walk(document)
