"""Each account's choice of how ``x-liveperson-signature`` is made: SHA-1 or SHA-256, base64 or hex.

The platform signs with HMAC-SHA1 in base64 unless an account asks otherwise, and offers SHA-256 and hexadecimal
per account; connectors written for such an account verify only that form, so appinstall lets an account choose
it too. The choice is stored on the account (not the installation, as on the platform) and read by the worker
when it claims a delivery, so a change applies to every attempt from then on, retries included.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from appinstall.accounts import service as accounts
from appinstall.connector.signing import Algorithm, Encoding
from appinstall.store import Store


class SignatureSetting(BaseModel):
    """How the account's webhooks are signed in ``x-liveperson-signature``: ``{algorithm}=`` + the encoded HMAC."""

    model_config = ConfigDict(extra="forbid")

    algorithm: Algorithm = Field(description="`sha1` (the platform's default) or `sha256`.")
    encoding: Encoding = Field(description="`base64` (the platform's default) or `hex`.")


class UnknownAccountError(LookupError):
    """The account does not exist; the view answers 404, as for any account the caller cannot see."""

    def __init__(self, account_id: str) -> None:
        super().__init__(f"there is no account {account_id!r}")
        self.account_id = account_id


async def get_setting(store: Store, account_id: str) -> SignatureSetting:
    stored = await accounts.signature_of(store, account_id)
    if stored is None:
        raise UnknownAccountError(account_id)
    return SignatureSetting.model_validate(stored._asdict())


async def set_setting(store: Store, account_id: str, setting: SignatureSetting) -> SignatureSetting:
    """Store the account's choice; deliveries claimed from now on are signed with it."""
    if not await accounts.set_signature(store, account_id, setting.algorithm, setting.encoding):
        raise UnknownAccountError(account_id)
    return setting


__all__ = ["SignatureSetting", "UnknownAccountError", "get_setting", "set_setting"]
