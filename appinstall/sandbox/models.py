"""Data shapes of the sandbox's platform-compatible answers."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field

# The service names a connector looks up in domain discovery, all answered by this server: tokens ("sentinel"),
# consumer identities ("idp"), the Send API ("asyncMessagingEnt") and the app-install registry
# ("accountConfigReadWrite", and its read-only twin).
DISCOVERABLE_SERVICES: Final = (
    "sentinel",
    "idp",
    "asyncMessagingEnt",
    "accountConfigReadWrite",
    "accountConfigReadOnly",
)


class BaseUri(BaseModel):
    service: str
    account: str
    baseURI: str = Field(description="host[:port], without a scheme, as the platform writes it.")  # noqa: N815


class Discovery(BaseModel):
    baseURIs: list[BaseUri]  # noqa: N815
