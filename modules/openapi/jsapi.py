# SPDX-License-Identifier: AGPL-3.0-or-later
"""JS-SDK tickets and signatures (wx.config / wx.agentConfig).

get_jsapi_ticket gives the corp's ticket, ticket/get?type=agent_config the app's; each is
handed out again while it has `token_reuse_margin_seconds` left, like access tokens. A
page signs `jsapi_ticket=…&noncestr=…&timestamp=…&url=…` with SHA-1 (crypto.jsapi_signature);
verify() is what a client's JS bridge asks before it lets a page use the API.
"""

import hmac
import secrets
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.openapi.config import OpenApiConfig
from modules.openapi.crypto import jsapi_signature

CORP = 0


def current_ticket_txn(
    txn: Txn, agentid: int, now: int, valid_after: int, ttl_ms: int
) -> tuple[str, int]:
    """(ticket, expires_ts): the newest one with enough life left, or a new one."""
    txn.execute(
        "SELECT ticket, expires_ts FROM jwwx_openapi_tickets WHERE agentid = ?"
        " AND expires_ts > ? ORDER BY expires_ts DESC LIMIT 1",
        (agentid, valid_after),
    )
    row = txn.fetchone()
    if row is not None:
        return row[0], int(row[1])
    ticket = secrets.token_urlsafe(48)
    txn.execute(
        "INSERT INTO jwwx_openapi_tickets (ticket, agentid, issued_ts, expires_ts)"
        " VALUES (?, ?, ?, ?)",
        (ticket, agentid, now, now + ttl_ms),
    )
    return ticket, now + ttl_ms


def valid_tickets_txn(txn: Txn, agentid: int, now: int) -> list[str]:
    txn.execute(
        "SELECT ticket FROM jwwx_openapi_tickets WHERE agentid = ? AND expires_ts > ?",
        (agentid, now),
    )
    return [row[0] for row in txn.fetchall()]


def purge_tickets_txn(txn: Txn, before: int) -> None:
    txn.execute("DELETE FROM jwwx_openapi_tickets WHERE expires_ts < ?", (before,))


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
            current_ticket_txn,
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
            "jwwx_openapi_valid_tickets", valid_tickets_txn, agentid, self._now()
        )
        given = signature.lower()
        return any(
            hmac.compare_digest(jsapi_signature(t, noncestr, timestamp, url), given)
            for t in tickets
        )

    async def purge(self) -> None:
        await self._api.run_db_interaction(
            "jwwx_openapi_purge_tickets", purge_tickets_txn, self._now()
        )
