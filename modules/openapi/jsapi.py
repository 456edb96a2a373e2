# SPDX-License-Identifier: AGPL-3.0-or-later
"""JS-SDK tickets and signatures (wx.config / wx.agentConfig).

get_jsapi_ticket gives the corp's ticket, ticket/get?type=agent_config the app's; each is
handed out again while it has `token_reuse_margin_seconds` left, like access tokens. A
page signs `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with SHA-1 (crypto.jsapi_signature);
verify() is what a client's JS bridge asks before it lets a page use the API.
"""

import hmac
from typing import Any

from synapse.module_api import ModuleApi

from modules.openapi.config import OpenApiConfig
from modules.openapi.crypto import jsapi_signature
from modules.openapi.storage import tickets as ticket_store

CORP = 0


class JsApi:
    def __init__(self, api: ModuleApi, config: OpenApiConfig) -> None:
        self._api = api
        self._config = config

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def ticket(self, agentid: int) -> dict[str, Any]:
        now = self._now()
        ticket, expires = await self._api.run_db_interaction(
            "jwwx_openapi_ticket",
            ticket_store.current_ticket_txn,
            agentid,
            now,
            now + self._config.token_reuse_margin_seconds * 1000,
            self._config.access_token_ttl_seconds * 1000,
        )
        return {"ticket": ticket, "expires_in": max(1, (expires - now) // 1000)}

    async def verify(
        self, agentid: int, noncestr: str, timestamp: str, url: str, signature: str
    ) -> bool:
        tickets = await self._api.run_db_interaction(
            "jwwx_openapi_valid_tickets",
            ticket_store.valid_tickets_txn,
            agentid,
            self._now(),
        )
        given = signature.lower()
        return any(
            hmac.compare_digest(jsapi_signature(t, noncestr, timestamp, url), given)
            for t in tickets
        )

    async def purge(self) -> None:
        await self._api.run_db_interaction(
            "jwwx_openapi_purge_tickets", ticket_store.purge_tickets_txn, self._now()
        )
