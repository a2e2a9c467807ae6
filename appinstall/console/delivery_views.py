"""Deliveries in the console: the account's live list, a delivery's page, retry and recover, webhook health."""

from __future__ import annotations

from fastapi import APIRouter

from appinstall.console.pages import ConsoleRoute

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
