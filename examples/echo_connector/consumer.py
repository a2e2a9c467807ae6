"""One consumer talking to the platform through the Send API (v3), on whose behalf the connector acts."""

from __future__ import annotations

import itertools
import time
from typing import Any

import httpx
import jwt

from appinstall.connector import AsyncTokenClient

from .install import check


class Consumer:
    """Opens conversations and sends text as the consumer ``ext_consumer_id`` (the connector's own id for them).

    Every request carries two tokens: the AppJWT says which app is calling (``AsyncTokenClient`` caches it and
    renews it before it expires), the ConsumerJWS on whose behalf.
    """

    def __init__(
        self, http: httpx.AsyncClient, services: dict[str, str], account: str, tokens: AsyncTokenClient, ext_id: str
    ) -> None:
        self._http = http
        self._idp = services["idp"]
        self._send_api = f"{services['asyncMessagingEnt']}/api/account/{account}/messaging/consumer/conversation"
        self._account = account
        self._tokens = tokens
        self._ext_id = ext_id
        self._jws: tuple[str, float] | None = None  # the ConsumerJWS and when it expires (epoch seconds)
        self._request_ids = itertools.count(1)

    async def _consumer_jws(self) -> str:
        """A ConsumerJWS from the IDP, asked again a minute before it expires (an hour by default)."""
        if self._jws is None or time.time() > self._jws[1] - 60:
            response = await self._http.post(
                f"{self._idp}/api/account/{self._account}/consumer",
                params={"v": "1.0"},
                json={"ext_consumer_id": self._ext_id},
                headers={"Authorization": await self._tokens.app_jwt()},  # bare, as the platform expects
            )
            token: str = check(response, 201)["token"]
            # Only the expiry is read; the server that issued the token checks it.
            claims = jwt.decode(token, options={"verify_signature": False})
            self._jws = token, float(claims["exp"])
        return self._jws[0]

    async def _post(self, path: str, body: Any) -> Any:
        headers = {"Authorization": await self._tokens.app_jwt(), "X-LP-ON-BEHALF": await self._consumer_jws()}
        return check(await self._http.post(self._send_api + path, params={"v": "3"}, json=body, headers=headers), 200)

    def _request(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "req", "id": str(next(self._request_ids)), "type": kind, "body": body}

    async def open_conversation(self) -> str:
        """A new conversation: the consumer's profile, then the request for a conversation, in one call."""
        profile = {"authenticatedData": {"lp_sdes": [{"type": "ctmrinfo", "info": {"socialId": self._ext_id}}]}}
        wanted = {"ttrDefName": "NORMAL", "channelType": "MESSAGING", "brandId": self._account, "skillId": "-1"}
        answers = await self._post(
            "",
            [
                self._request("userprofile.SetUserProfile", profile),
                self._request("cm.ConsumerRequestConversation", wanted),
            ],
        )
        conversation_id: str = answers[1]["body"]["conversationId"]
        return conversation_id

    async def send_text(self, conversation_id: str, text: str) -> None:
        event = {"type": "ContentEvent", "contentType": "text/plain", "message": text}
        await self._post("/send", self._request("ms.PublishEvent", {"dialogId": conversation_id, "event": event}))
