"""Hostile input, class by class, as it travels in a URL, a form or a JSON body (shared by the HTTP input tests).

Each class is what a black-box probe answered 500 to: NUL, lone surrogates, deep nesting, integers past 64 bits,
over-long digit strings, non-finite numbers, and cursors that decode to any of these. URL values are bytes, sent
percent-encoded, so that a lone surrogate can travel as its (invalid) UTF-8 bytes; JSON values are raw JSON text.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

# --- In a URL (path segment, query value) or a form field: raw bytes, percent-encoded when sent ----------------

URL_VALUES: dict[str, bytes] = {
    "nul": b"a\x00b",
    "lone surrogate (UTF-8 bytes)": b"a\xed\xa0\x80b",
    "huge integer": b"9" * 30,
    "negative huge integer": b"-" + b"9" * 30,
    "5,000 digits": b"1" * 5000,
    "exponent": b"1e999",
}


def _b64(raw: bytes) -> bytes:
    return base64.urlsafe_b64encode(raw).rstrip(b"=")


CURSOR_VALUES: dict[str, bytes] = {
    "not base64": b"!!!*",
    "base64 of garbage": _b64(b"\xff\xfe garbage"),
    "base64 of a huge integer": _b64(b"9" * 30),
    "base64 of 5,000 digits": _b64(b"1" * 5000),
    "base64 of a huge pair": _b64(b'[99999999999999999999999999, "x"]'),
    "base64 of a pair with a NUL": _b64(b'[1, "a\\u0000b"]'),
    "base64 of a pair with a lone surrogate": _b64(b'[1, "\\ud800"]'),
    "base64 of deep nesting": _b64(b"[" * 5000 + b"]" * 5000),
    "base64 of 5,000-digit pair": _b64(b"[" + b"1" * 5000 + b', "x"]'),
}


def url_encoded(value: bytes) -> str:
    return quote(value, safe="")


# --- In a JSON body: raw JSON text that replaces one value ---------------------------------------------------

JSON_VALUES: dict[str, str] = {
    "nul escape": '"a\\u0000b"',
    "lone high surrogate escape": '"a\\ud800b"',
    "lone low surrogate escape": '"\\udfff"',
    "reversed surrogate pair": '"\\udc00\\ud800"',
    "deep nesting": "[" * 20_000 + "]" * 20_000,
    "moderately deep nesting": '{"a":' * 900 + "1" + "}" * 900,
    "huge integer": "9" * 30,
    "5,000 digits": "1" * 5000,
    "infinite float": "1e999",
    "negative infinite float": "-1e999",
    "long float": "1" * 5000 + ".5",
    "NaN": "NaN",
}

BAD_KEYS: dict[str, str] = {
    "nul in a key": '"k\\u0000"',
    "lone surrogate in a key": '"\\ud800"',
}

# Text that must keep working: emoji (an escaped surrogate pair too), CJK, combining marks, right-to-left.
GOOD_TEXTS = ("héllo 👋", "漢字かな", "e\u0301", "مرحبا", "\U0001f9d1\u200d\U0001f4bb")
