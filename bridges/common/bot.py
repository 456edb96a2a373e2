# SPDX-License-Identifier: AGPL-3.0-or-later
"""What every bot bridge does with the events Synapse sends it: join a chat when an
officer of this server invites the bot, hand officers' messages to the bridge, and never
let one bad event stop the transaction (it is logged)."""

import logging
from typing import Any

from bridges.common.matrix import BotClient

logger = logging.getLogger(__name__)


class InvitedBot:
    def __init__(self, server_name: str, bot: BotClient) -> None:
        self._server_name = server_name
        self._bot = bot

    def _local(self, user_id: str) -> bool:
        return user_id.endswith(":" + self._server_name)

    async def on_event(self, event: dict[str, Any]) -> None:
        try:
            if event.get("type") == "m.room.member":
                await self._on_member(event)
            elif event.get("type") == "m.room.message":
                await self._on_message(event)
        except Exception:
            logger.exception("event %s failed", event.get("event_id"))

    async def _on_member(self, event: dict[str, Any]) -> None:
        content = event.get("content") or {}
        if (
            event.get("state_key") == self._bot.user_id
            and content.get("membership") == "invite"
            and self._local(str(event.get("sender", "")))
        ):
            await self._bot.join(str(event["room_id"]))

    async def _on_message(self, event: dict[str, Any]) -> None:
        """An m.room.message in a chat the bot is in (the bridge's own work)."""
