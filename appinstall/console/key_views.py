"""Keys in the console: an account's admin keys, and (for the operator) the token signing keys."""

from __future__ import annotations

from fastapi import APIRouter

from appinstall.console.pages import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
