"""Data shapes of the sandbox's platform-compatible answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from appinstall.settings import AgentMode as AgentMode  # the setting's values: see ``settings.AgentMode``

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


# --- The Send API's requests ------------------------------------------------------------------------------------

ChatState = Literal["ACTIVE", "INACTIVE", "GONE", "COMPOSING", "PAUSE"]
AcceptStatus = Literal["ACCEPT", "READ", "ACCESS", "NACK", "ACTION"]


class Request(BaseModel):
    """One request of the platform's messaging protocol: ``{"kind": "req", "id", "type", "body"}``."""

    model_config = ConfigDict(extra="ignore")

    kind: Literal["req"]
    id: str | int
    type: str
    body: dict[str, Any] = Field(default_factory=dict)


class ContentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["ContentEvent"]
    message: str | dict[str, Any] = Field(description="Text, or for hosted/file the file's description.")
    contentType: str = "text/plain"  # noqa: N815


class RichContentEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["RichContentEvent"]
    content: dict[str, Any]


class AcceptStatusEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["AcceptStatusEvent"]
    status: AcceptStatus
    sequenceList: list[int] = Field(min_length=1)  # noqa: N815


class ChatStateEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["ChatStateEvent"]
    chatState: ChatState  # noqa: N815


# The messaging events a Send API request may publish, by their wire ``type`` (each one of the vocabulary's
# ``MESSAGING_EVENTS``; a test checks it).
Event = Annotated[ContentEvent | RichContentEvent | AcceptStatusEvent | ChatStateEvent, Field(discriminator="type")]


class PublishEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dialogId: str = Field(min_length=1, max_length=36)  # noqa: N815
    event: Event


class ConversationField(BaseModel):
    model_config = ConfigDict(extra="ignore")

    field: Literal["ConversationStateField"]
    conversationState: Literal["CLOSE"]  # noqa: N815


class UpdateConversationField(BaseModel):
    model_config = ConfigDict(extra="ignore")

    conversationId: str = Field(min_length=1, max_length=36)  # noqa: N815
    conversationField: ConversationField  # noqa: N815


# --- The sandbox's agent API ------------------------------------------------------------------------------------

DEFAULT_AGENT: Final = "sandbox-agent"


class AgentAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent_id: str = Field(DEFAULT_AGENT, min_length=1, max_length=64, description="The agent's participant id.")


class AgentEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: Event


# --- The scripted agent ----------------------------------------------------------------------------------------

# AgentMode (``off`` or ``echo``) is defined with the setting that chooses it, imported at the top.


class AgentSettingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: AgentMode = Field(description="`echo`: the echo agent answers this account's consumers; `off`: no agent.")


class AgentSetting(BaseModel):
    """The agent that answers an account's consumers, and whether the account chose it or the server did."""

    mode: AgentMode
    source: Literal["account", "server"] = Field(
        description="`account`: set for this account (it overrides the server); `server`: APPINSTALL_SANDBOX_AGENT."
    )


@dataclass(frozen=True)
class Appended:
    """An event just committed to a conversation, as a scripted agent hears of it.

    ``agent_mode`` is the account's own agent choice as it stood in that same transaction (None: the server's
    default applies), so a change of choice applies exactly to the messages committed after it.
    """

    account_id: str
    conversation_id: str
    role: str
    event: dict[str, Any]
    sequence: int | None
    agent_mode: AgentMode | None = None


# --- A conversation as read back (the console's sandbox shows it) -------------------------------------------------


@dataclass(frozen=True)
class ConversationRecord:
    """A stored conversation: who is in it and whether it is open."""

    id: str
    account_id: str
    consumer_id: str
    agent_id: str | None
    state: str  # OPEN or CLOSE
    close_reason: str | None
    created_at: int
    updated_at: int
    ended_at: int | None


@dataclass(frozen=True)
class StoredEvent:
    """One event of a conversation as it was committed; ``id`` orders them (and lets a reader ask for newer ones)."""

    id: int
    sequence: int | None
    originator_id: str
    role: str
    event: dict[str, Any]
    server_timestamp: int
