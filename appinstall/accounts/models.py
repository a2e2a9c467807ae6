"""Shapes of accounts, admin keys and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class AccountCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    id: str = Field(pattern=ACCOUNT_ID_PATTERN, description="The account id, as the messaging platform knows it.")


class Account(BaseModel):
    id: str
    created_at: int = Field(description="Milliseconds since the epoch.")


class KeyCreate(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100, description="A label to tell keys apart.")


class KeyInfo(BaseModel):
    id: str
    name: str | None
    created_at: int
    revoked_at: int | None


class KeyCreated(KeyInfo):
    key: str = Field(description="The bearer key. Shown only in this response; store it now.")


KEY_ACTOR_PREFIX = "key:"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the operator (every account) or an admin key of one account."""

    actor: str
    account_id: str | None

    @property
    def is_operator(self) -> bool:
        return self.account_id is None

    @classmethod
    def of_key(cls, key_id: str, account_id: str) -> Principal:
        """The principal an admin key of ``account_id`` stands for (``key_id`` is the inverse)."""
        return cls(actor=KEY_ACTOR_PREFIX + key_id, account_id=account_id)

    @property
    def key_id(self) -> str | None:
        """The admin key's id, for a principal that is one."""
        return self.actor.removeprefix(KEY_ACTOR_PREFIX) if self.actor.startswith(KEY_ACTOR_PREFIX) else None

    def may_access(self, account_id: str) -> bool:
        return self.account_id is None or self.account_id == account_id


OPERATOR = Principal(actor="operator", account_id=None)
