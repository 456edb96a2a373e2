# SPDX-License-Identifier: AGPL-3.0-or-later
"""The docs bot (警务文档): tells officers of their tasks in a chat of two.

Chosen over the open API's app conversations: those belong to an app an admin creates
(an agentid, a visible range, its own bot), which documents do not have; the docs bot
is this module's own account (config `bot_localpart`, registered on first use), with
one room per officer (jwwx_docs_bot_rooms), made as the open API makes its
conversations: the officer's invite in the room's initial state, then his join, the
room marked direct for him. A message is an m.text whose `cn.jwwx.wecom` textcard
the officer's web client draws as a card (its link opens the document in the editor
page, with the officer's own identity); other Matrix clients show the body."""

import logging
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.synapse.errors import SynapseError
from modules.common.synapse.runtime import keyed_lock
from modules.docs.storage import flow as storage_flow

logger = logging.getLogger(__name__)


def card(
    title: str, description: str, url: str, button: str = "打开"
) -> dict[str, Any]:
    """A message drawn as a card by the web client (docs/openapi.md's textcard)."""
    return {
        "msgtype": "m.text",
        "body": f"{title}\n{description}\n{url}",
        "cn.jwwx.wecom": {
            "msgtype": "textcard",
            "textcard": {
                "title": title,
                "description": description,
                "url": url,
                "btntxt": button,
            },
        },
    }


class DocsBot:
    def __init__(self, api: ModuleApi, localpart: str, name: str) -> None:
        self._api = api
        self._name = name
        self.user_id = api.get_qualified_user_id(localpart)
        self._localpart = localpart
        self._ready = False
        self._room_lock = keyed_lock(api, "jwwx_docs_bot_room")

    async def _ensure(self) -> None:
        if self._ready:
            return
        if await self._api.check_user_exists(self.user_id) is None:
            await self._api.register_user(self._localpart, self._name)
        self._ready = True

    async def room_of(self, user_id: str) -> str:
        """The bot's chat with this officer (made on first use)."""
        found = await self._api.run_db_interaction(
            "jwwx_docs_bot_room", storage_flow.bot_room_txn, user_id
        )
        if found is not None:
            return str(found)
        async with self._room_lock(user_id):
            found = await self._api.run_db_interaction(
                "jwwx_docs_bot_room", storage_flow.bot_room_txn, user_id
            )
            return str(found) if found else await self._create(user_id)

    async def _create(self, user_id: str) -> str:
        await self._ensure()
        room_id, _ = await self._api.create_room(
            self.user_id,
            {
                "preset": "trusted_private_chat",
                "is_direct": True,
                "name": self._name,
                "initial_state": [
                    {
                        "type": "m.room.member",
                        "state_key": user_id,
                        "content": {"membership": "invite", "is_direct": True},
                    }
                ],
            },
            ratelimit=False,
        )
        kept = await self._api.run_db_interaction(
            "jwwx_docs_claim_bot_room",
            storage_flow.claim_bot_room_txn,
            user_id,
            room_id,
        )
        if kept != room_id:  # another process made one meanwhile
            await self._api.update_room_membership(
                self.user_id, self.user_id, room_id, "leave"
            )
            return str(kept)
        await self._api.update_room_membership(user_id, user_id, room_id, "join")
        try:
            manager = self._api.account_data_manager
            direct = dict(await manager.get_global(user_id, "m.direct") or {})
            direct[self.user_id] = [*direct.get(self.user_id, []), room_id]
            await manager.put_global(user_id, "m.direct", direct)
        except SynapseError as e:
            logger.warning("cannot mark %s direct for %s: %s", room_id, user_id, e)
        return room_id

    async def tell(self, user_id: str, content: dict[str, Any]) -> str:
        """Send a message to the officer; the event id."""
        room_id = await self.room_of(user_id)
        event = await self._api.create_and_send_event_into_room(
            {
                "type": "m.room.message",
                "room_id": room_id,
                "sender": self.user_id,
                "content": content,
            }
        )
        return str(event.event_id)
