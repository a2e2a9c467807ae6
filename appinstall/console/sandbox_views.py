"""The sandbox in the console: chat as a consumer, watch or answer as the agent, see each step's notifications."""

from __future__ import annotations

from fastapi import APIRouter

from appinstall.console.pages import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
