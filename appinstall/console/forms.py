"""A console form's fields, read from an ``application/x-www-form-urlencoded`` body.

Every console form is urlencoded (a manifest file is read into the editor by the page, not uploaded as multipart),
so the standard library's parser is all it takes; the body's size and encoding were already checked by
``http.limits`` and ``http.input_guard`` before any route runs.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import Request

from appinstall.errors import Invalid

MAX_FIELDS = 50

Form = dict[str, str]


async def read_form(request: Request) -> Form:
    """The fields of the request's form; a field sent twice keeps its first value (no form here repeats one)."""
    if request.headers.get("content-type", "").split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        return {}
    fields: Form = {}
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise Invalid("invalid-form", f"a console form has at most {MAX_FIELDS} fields") from None
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields
