"""The manifest's rules as pure data and functions (its vocabulary, the names it may use, is ``vocabulary.py``).

Every rule that the JSON Schema also expresses is written here once, as a regular expression, so that the
validator and the published schema cannot drift apart: the validator decides with the same pattern the schema
publishes, and only the wording of the message (which part of the value is wrong) is computed in Python.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from typing import Final

# End of input. ``$`` would also match before a final newline in Python (and so in the ``jsonschema``
# package), which would let "value\n" through a header check; this lookahead means the same in every engine.
END: Final = r"(?![\s\S])"

# --- Fields the server owns ----------------------------------------------------------------------------------

# The platform's clients GET an installation and PUT the whole object back, so these arrive with manifests. The
# registry checks or ignores them; ``validate_document`` warns that they are ignored. One list for both.
SERVER_FIELDS: Final = (
    "id",
    "client_id",
    "client_secret",
    "client_id_issued_at",
    "client_secret_expires_at",
    "deleted",
    "enabled",
    "response_types",
)

# --- OAuth ---------------------------------------------------------------------------------------------------

CLIENT_CREDENTIALS: Final = "client_credentials"
REQUIRED_SCOPE: Final = "msg.consumer"

# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), tokens separated by single spaces.
_SCOPE_WORD = r"[\x21\x23-\x5B\x5D-\x7E]+"
SCOPE_PATTERN: Final = rf"^{_SCOPE_WORD}( {_SCOPE_WORD})*{END}"
SCOPE_HAS_REQUIRED_PATTERN: Final = rf"(^| )msg\.consumer( |{END})"

# --- Lengths -------------------------------------------------------------------------------------------------

CLIENT_NAME_MAX: Final = 100
DESCRIPTION_MAX: Final = 256
SCOPE_MAX: Final = 128
LOGO_URI_MAX: Final = 128
ENDPOINT_MAX: Final = 2048
HEADERS_MAX: Final = 20
HEADER_NAME_MAX: Final = 256
HEADER_VALUE_MAX: Final = 4096
MAX_RETRIES_MAX: Final = 5
RETENTION_TIME_MIN: Final = 2
RETENTION_TIME_MAX: Final = 259_200

# --- Client name ---------------------------------------------------------------------------------------------

# Whitespace and control characters are spelled out rather than written ``\s``: ``\s`` means different sets in
# Python and in ECMA-262 (which JSON Schema tools use), and the validator and the schema must agree everywhere.
WHITESPACE: Final = " \t\n\r\f\v"
_WHITESPACE_CLASS = r"[ \t\n\r\f\v]"
_CONTROLS = r"\x00-\x1f\x7f-\x9f"  # C0, DEL and C1

# 1..100 characters once surrounding whitespace is trimmed, and no control characters inside.
_NAME_CHAR = rf"[^{_CONTROLS}]"
_NAME_EDGE = rf"[^ {_CONTROLS}]"
# Characters that show nothing: Unicode's other spaces and its default-ignorable code points in the basic plane
# (zero-width space and joiners, bidirectional controls, variation selectors, Hangul fillers, the BOM, ...). A name
# must have at least one character outside them and the ASCII whitespace. (The default-ignorables beyond the basic
# plane, the tag characters, are written differently in Python's and ECMA-262's patterns; names drop them when
# compared, in ``registry.names``.)
INVISIBLE: Final = (  # a character class's inside, in escapes both pattern dialects read
    r"\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f"
    r"\u205f-\u206f\u2800\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
)
CLIENT_NAME_PATTERN: Final = (
    rf"^(?=[\s\S]*[^ \t\n\r\f\v{INVISIBLE}{_CONTROLS}])"
    rf"{_WHITESPACE_CLASS}*{_NAME_EDGE}({_NAME_CHAR}{{0,{CLIENT_NAME_MAX - 2}}}{_NAME_EDGE})?"
    rf"{_WHITESPACE_CLASS}*{END}"
)
_CONTROL = re.compile(rf"[{_CONTROLS}]")
_VISIBLE = re.compile(rf"[^ \t\n\r\f\v{INVISIBLE}{_CONTROLS}]")

# --- URLs ----------------------------------------------------------------------------------------------------

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host whose last label is a number (``127.1``, ``2130706433``, ``0x7f.1``) is an IPv4 address to a URL parser
# (WHATWG URL §3.5), read differently by different clients; so a name's last label is never all digits nor 0x-hex,
# and an address is written only as the canonical dotted quad.
_NUMERIC_LABEL = r"(?:[0-9]+|0[xX][0-9A-Fa-f]*)(?![A-Za-z0-9-])"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_HOSTNAME = rf"(?:{_LABEL}\.)*(?!{_NUMERIC_LABEL}){_LABEL}\.?"


def _ipv6_address() -> str:
    """RFC 3986 §3.2.2's IPv6address, spelled as a regular expression (the nine forms of where ``::`` may stand)."""
    h16, ls32 = "[0-9A-Fa-f]{1,4}", rf"(?:[0-9A-Fa-f]{{1,4}}:[0-9A-Fa-f]{{1,4}}|{_IPV4})"

    def before(most: int) -> str:  # [ *most( h16 ":" ) h16 ]
        return "" if most < 0 else rf"(?:(?:{h16}:){{0,{most}}}{h16})?"

    forms = [rf"(?:{h16}:){{6}}{ls32}", rf"::(?:{h16}:){{5}}{ls32}"]
    forms += [rf"{before(n)}::(?:{h16}:){{{4 - n}}}{ls32}" for n in range(0, 4)]
    forms += [rf"{before(4)}::{ls32}", rf"{before(5)}::{h16}", rf"{before(6)}::"]
    return "(?:" + "|".join(forms) + ")"


_IPV6 = rf"\[{_ipv6_address()}\]"
_PORT = r"(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_REST = rf"(?:[/?#][^ {_CONTROLS}]*)?"
HTTPS_URL_PATTERN: Final = rf"^https://(?:{_IPV4}|{_HOSTNAME}|{_IPV6})(?::{_PORT})?{_REST}{END}"
# Development only (``appinstall serve --dev``): plain http to this machine, for a local receiver.
LOCAL_HTTP_URL_PATTERN: Final = rf"^http://(?:localhost|127(?:\.{_OCTET}){{3}}|\[::1\])(?::{_PORT})?{_REST}{END}"
# A logo is an absolute https URL or a path on the platform's own host ("/…", but not "//host/…").
# The platform's own installer sends ``""`` for "no logo".
LOGO_URI_PATTERN: Final = rf"{HTTPS_URL_PATTERN}|^/(?!/)[^ {_CONTROLS}]*{END}|^{END}"

# --- Headers -------------------------------------------------------------------------------------------------

# RFC 9110 §5.6.2: token = 1*tchar.
HEADER_NAME_PATTERN: Final = rf"^[!#$%&'*+.^_`|~0-9A-Za-z-]+{END}"
# A field value may hold visible characters, spaces and tabs; CR, LF, NUL and other controls would let a
# manifest inject headers or split the request.
HEADER_VALUE_PATTERN: Final = rf"^[^\x00-\x08\x0a-\x1f\x7f]*{END}"

# What the platform sets on every request, and what only the connection may carry: the hop-by-hop headers of
# RFC 9110 §7.6.1 and RFC 9112 (a manifest's ``Expect: 100-continue`` would make each request wait for an interim
# answer the receiver never sends; ``Upgrade``/``Connection``/``TE`` change how the request itself is framed).
RESERVED_HEADERS: Final = (
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "expect",
    "upgrade",
    "te",
    "trailer",
    "http2-settings",
)
RESERVED_HEADER_PREFIXES: Final = ("x-liveperson-", "webhook-", "proxy-")


def _case_insensitive(text: str) -> str:
    """Spell ``text`` as a pattern that ignores case without flags, which ECMA-262 schemas cannot carry."""
    parts = []
    for char in text:
        if char.isalpha():
            parts.append(f"[{char.upper()}{char.lower()}]")
        else:
            parts.append(char if char == "-" else re.escape(char))
    return "".join(parts)


RESERVED_HEADER_PATTERN: Final = (
    "^(?:"
    + "|".join(
        [_case_insensitive(name) + END for name in RESERVED_HEADERS]
        + [_case_insensitive(prefix) for prefix in RESERVED_HEADER_PREFIXES]
    )
    + ")"
)


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` matches a published pattern, searched as JSON Schema's ``pattern`` keyword does."""
    return _compiled(pattern).search(value) is not None


def is_reserved_header(name: str) -> bool:
    """Whether the platform sets this header itself, so a manifest may not."""
    lowered = name.lower()
    return lowered in RESERVED_HEADERS or lowered.startswith(RESERVED_HEADER_PREFIXES)


def has_visible_character(value: str) -> bool:
    """Whether ``value`` shows anything: a character other than whitespace, controls and ``INVISIBLE``."""
    return _VISIBLE.search(value) is not None


def has_control_character(value: str) -> bool:
    return _CONTROL.search(value) is not None


def describe_bad_https_url(value: str) -> str:
    """Say what is wrong with a value that failed ``HTTPS_URL_PATTERN``, in a person's words."""
    if not value.lower().startswith("https://"):
        return "must be an absolute URL that starts with https://"
    if value[len("https://") :].split("/", 1)[0].count("@"):
        return "must not carry user information (user:password@) in the URL"
    if " " in value or has_control_character(value):
        return "must not contain spaces or control characters"
    authority = re.split(r"[/?#]", value[len("https://") :], maxsplit=1)[0]
    if not authority:
        return "must name a host after https://"
    host = authority.rsplit("]", 1)[0] + "]" if authority.startswith("[") else authority.split(":", 1)[0]
    return describe_bad_host(host) or f"has an invalid host or port: {authority!r}"


def describe_bad_host(host: str) -> str | None:
    """What is wrong with an IP literal the pattern refused: an invalid IPv6 address, or IPv4 not as a dotted quad."""
    if host.startswith("["):
        literal = host[1:-1] if host.endswith("]") else host[1:]
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            unbracketed = "; an IPv4 address goes without brackets" if "." in literal and ":" not in literal else ""
            return (
                f"has an invalid IPv6 address in brackets: {host!r}; write a valid one, like [2001:db8::1]{unbracketed}"
            )
        return None
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if re.fullmatch(_NUMERIC_LABEL, last) and not re.fullmatch(_IPV4, host):
        try:
            meant = f" (here {ipaddress.IPv4Address(socket.inet_aton(host))})"
        except OSError:
            meant = ""
        return (
            f"names an IPv4 address as {host!r}, which clients read differently: write it as four decimal numbers "
            f"0-255 without leading zeros{meant}, or use a host name"
        )
    return None
