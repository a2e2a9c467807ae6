"""What every console response carries, and what every console form must carry: pure policy, no I/O.

Pages are same-origin only: scripts and styles come from ``/console/static`` (no inline script, no ``eval``),
nothing is framed, forms post only here. A state-changing request must carry the session's CSRF token (a hidden
form field, or the ``X-CSRF-Token`` header from the page's script) and, when the browser says where it comes from
(``Origin``, or ``Sec-Fetch-Site``), come from this origin. SameSite=Strict cookies already keep other sites'
forms from carrying a session; the token is the second lock, which holds where SameSite does not (old browsers,
a sibling subdomain).
"""

from __future__ import annotations

import hmac

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)

PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: with it, Chromium sends a form post's Origin as "null", and the origin check needs it.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
"""Headers of every console page and answer: nothing of a signed-in page is cached or framed, or leaks a Referer to
another site."""

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time: does the request's CSRF token match the session's?"""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def from_this_origin(origin: str | None, fetch_site: str | None, own_origin: str) -> bool:
    """Whether a state-changing request comes from this site, as far as the browser tells.

    ``Sec-Fetch-Site`` (every current browser sends it) must be ``same-origin`` (or ``none``: typed by the user);
    ``Origin``, when sent, must be this server's. A request with neither (a non-browser client) is left to the
    CSRF token.
    """
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return False
    return origin is None or origin == own_origin
