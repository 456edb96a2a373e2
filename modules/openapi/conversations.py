# SPDX-License-Identifier: AGPL-3.0-or-later
"""Each app's direct conversation with an officer: one Matrix room per (app, officer),
created by the app's bot with the officer already joined and marked direct.

Creating a room costs Synapse ~185 database transactions (four event batches: create,
the bot's join, the initial state with the officer's invite, the officer's join), i.e.
0.1–0.3 s of server time per officer. A first push to thousands of officers would pay
that on the push path, so conversations are prepared in the background as soon as an
app's visible range is set or changed; message/send then only creates rooms for
officers a periodic sweep has not reached yet (and for anyone missed).
"""

import logging
from collections.abc import Callable

from synapse.module_api import ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.errors import SynapseError
from modules.common.synapse.runtime import keyed_lock, run_concurrently
from modules.openapi import storage
from modules.openapi.scope import scope_txn
from modules.openapi.storage import App

logger = logging.getLogger(__name__)

PREPARE_BATCH = 200


def missing_conversations_txn(txn: Txn, app: App, limit: int) -> list[str]:
    """Deliverable members in the app's range who have no conversation with it yet."""
    members = scope_txn(txn, app).members
    return storage.missing_conversations_txn(txn, app.agentid, members, limit)


class Conversations:
    def __init__(
        self,
        api: ModuleApi,
        concurrency: int,
    ) -> None:
        self._api = api
        self._concurrency = concurrency
        self._direct_lock = keyed_lock(api, "jwwx_openapi_m_direct")
        # One creation per (app, officer) at a time in this process: message/send and
        # the background preparation of a new app's range reach the same officer at
        # once, and the loser's spare room, briefly joined, is one the officer could
        # write in before it is left (a message no callback would ever carry).
        self._create_lock = keyed_lock(api, "jwwx_openapi_conversation")
        # agentid → True when asked again while a preparation runs.
        self._preparing: dict[int, bool] = {}
        # Told each room recorded as a conversation here (the message tail reads it).
        self.on_claimed: Callable[[str], None] = lambda room_id: None

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def existing(self, agentid: int, userids: list[str]) -> dict[str, str]:
        return dict(
            await self._api.run_db_interaction(
                "jwwx_openapi_conversations",
                storage.conversations_txn,
                agentid,
                userids,
            )
        )

    async def get_or_create(self, app: App, userid: str) -> str:
        found = (await self.existing(app.agentid, [userid])).get(userid)
        return found or await self.create(app, userid)

    async def create(self, app: App, userid: str) -> str:
        """A new conversation room (or the one another request created meanwhile)."""
        async with self._create_lock(f"{app.agentid}:{userid}"):
            found = (await self.existing(app.agentid, [userid])).get(userid)
            return found or await self._create(app, userid)

    async def _create(self, app: App, userid: str) -> str:
        user_id = self._api.get_qualified_user_id(userid)
        # The invite is part of the room's initial state: one event batch fewer than
        # createRoom's `invite`, and the officer gets no power in the app's room.
        room_id, _ = await self._api.create_room(
            app.bot_user_id,
            {
                "preset": "trusted_private_chat",
                "is_direct": True,
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
        # Claimed before the officer joins: a room that lost the race (to another
        # worker) is withdrawn while it is only an invite, never one the officer could
        # write in unheard.
        used = str(
            await self._api.run_db_interaction(
                "jwwx_openapi_claim_conversation",
                storage.claim_conversation_txn,
                app.agentid,
                userid,
                room_id,
                self._now(),
            )
        )
        self.on_claimed(used)
        if used != room_id:
            bot = app.bot_user_id
            await self._api.update_room_membership(bot, user_id, room_id, "leave")
            await self._api.update_room_membership(bot, bot, room_id, "leave")
            return used
        await self._api.update_room_membership(user_id, user_id, room_id, "join")
        try:
            # Read-modify-write: conversations of several apps with one officer may be
            # prepared at once.
            async with self._direct_lock(user_id):
                manager = self._api.account_data_manager
                direct = dict(await manager.get_global(user_id, "m.direct") or {})
                direct[app.bot_user_id] = [*direct.get(app.bot_user_id, []), room_id]
                await manager.put_global(user_id, "m.direct", direct)
        except SynapseError as e:
            logger.warning("cannot mark %s direct for %s: %s", room_id, user_id, e)
        return room_id

    def prepare_in_background(self, app: App) -> None:
        """Create the missing conversations of the app's range, after the answer.
        One preparation per app at a time; a call meanwhile runs it once more."""
        if app.agentid in self._preparing:
            self._preparing[app.agentid] = True
            return
        self._preparing[app.agentid] = False
        self._api.run_as_background_process(
            "jwwx_openapi_prepare_conversations", self._prepare, app.agentid
        )

    async def _prepare(self, agentid: int) -> None:
        try:
            again = True
            while again:
                self._preparing[agentid] = False
                created = await self.prepare(agentid)
                if created:
                    logger.info("prepared %d conversations of app %s", created, agentid)
                again = self._preparing[agentid]
        finally:
            self._preparing.pop(agentid, None)

    async def prepare(self, agentid: int) -> int:
        """Create every missing conversation of the app now; how many were created."""
        created = 0
        failed: set[str] = set()
        while True:
            app = await self._api.run_db_interaction(
                "jwwx_openapi_app", storage.get_app_txn, agentid
            )
            if app is None:
                return created  # deleted meanwhile
            missing = await self._api.run_db_interaction(
                "jwwx_openapi_missing_conversations",
                missing_conversations_txn,
                app,
                PREPARE_BATCH + len(failed),
            )
            todo = [u for u in missing if u not in failed][:PREPARE_BATCH]
            if not todo:
                return created

            async def create_one(userid: str, app: App = app) -> None:
                nonlocal created
                try:
                    await self.create(app, userid)
                    created += 1
                except Exception:
                    logger.exception("cannot prepare %s for app %s", userid, agentid)
                    failed.add(userid)

            await run_concurrently(create_one, todo, self._concurrency)
