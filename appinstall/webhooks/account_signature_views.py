"""HTTP routes of an account's webhook signature setting (admin key of the account, or the operator)."""

from __future__ import annotations

from fastapi import APIRouter

from appinstall.http.deps import AccountDep
from appinstall.http.problems import ProblemError
from appinstall.webhooks import account_signature
from appinstall.webhooks.account_signature import SignatureSetting, UnknownAccountError

SIGNATURE_SETTING = "/api/account/{account_id}/settings/webhook-signature"

router = APIRouter(tags=["webhooks"])


def _not_found(error: UnknownAccountError) -> ProblemError:
    return ProblemError(404, "account-not-found", str(error))


@router.get(SIGNATURE_SETTING, summary="How the account's webhooks are signed in x-liveperson-signature")
async def get_signature_setting(account_id: str, account: AccountDep) -> SignatureSetting:
    """``{"algorithm": "sha1", "encoding": "base64"}`` until the account chooses otherwise (the platform's default)."""
    try:
        return await account_signature.get_setting(account.store, account_id)
    except UnknownAccountError as error:
        raise _not_found(error) from None


@router.put(SIGNATURE_SETTING, summary="Choose how the account's webhooks are signed in x-liveperson-signature")
async def put_signature_setting(account_id: str, account: AccountDep, body: SignatureSetting) -> SignatureSetting:
    """``algorithm`` ``sha1`` or ``sha256``, ``encoding`` ``base64`` or ``hex``: the header becomes ``sha256=`` +
    hex(HMAC-SHA256(client secret, body)), for example. Applies to every attempt made from now on, retries of
    earlier deliveries included; the Standard Webhooks headers do not change."""
    try:
        return await account_signature.set_setting(account.store, account_id, body)
    except UnknownAccountError as error:
        raise _not_found(error) from None
