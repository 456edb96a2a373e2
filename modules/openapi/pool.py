# SPDX-License-Identifier: AGPL-3.0-or-later
"""The pool of spare broadcast rooms: membership built before the apps exist.

A push to an app's whole range goes into its broadcast rooms (broadcast.py), and right
after the app's creation those rooms must first be joined: about 30 database
transactions and 110 ms of server CPU per officer (docs/openapi.md), minutes for a
bureau. So the jobs instance keeps every deliverable officer of the directory joined to
exactly one **spare room** (`broadcast_room_size` officers each, 100), created by the
pool's bot (@jwwx_notices), read-only like an app's broadcast room, named "应用通知"
and marked with the state event `cn.jwwx.openapi.spare` (our clients may hide it).
Officers are placed in department order (depth-first by their main department, then
userid), so a department's officers fill whole rooms, except at most two at its ends.

When an app's broadcast rooms are first brought up to date (its range set, or its
first push), every spare room whose officers are all joined and all in the app's range
(and in none of its rooms yet) becomes the app's: its rows move to the app, and one
batch of state events (send_batch: the members are woken once) gives it the app's
name, avatar and marker and joins the app's bot with power 100; the pool's bot keeps
power to administer it. The officers the claimed rooms do not cover (the rooms
straddling the range's ends, officers who entered the directory since, tag ranges)
are joined to new rooms of the app as before. After a claim the pool refills: the
claimed officers get new spare rooms, in the background, a while after the app's
build (`broadcast_pool_refill_delay_seconds`), `broadcast_pool_concurrency` rooms at a
time; the app's conversations (prepare_conversations) wait as long.

The pool only creates rooms (it never adds officers to a spare room that is complete,
so a room is claimable only once its one batch of joins is done, and the pool never
touches a room after it was claimed); an officer who leaves the directory is removed
by the pool's bot. Apps only: public accounts (public.py) keep their own rooms.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from synapse.module_api import ModuleApi

from modules.common.synapse.rooms import send_batch
from modules.common.synapse.runtime import keyed_lock, run_concurrently
from modules.openapi.broadcast import APP_ROOMS, Broadcasts, Channel, RoomStyle
from modules.openapi.storage import broadcast as rooms_db

logger = logging.getLogger(__name__)

SPARE_TYPE = "cn.jwwx.openapi.spare"
POOL_LOCALPART = "jwwx_notices"
POOL_NAME = "应用通知"
SPARE_ROOMS = RoomStyle("openapi_pool", SPARE_TYPE, "应用通知（只读）", "joined")


@dataclass(frozen=True)
class PoolChannel:
    key: int
    bot_user_id: str
    name: str
    avatar: str | None = None


class Pool:
    def __init__(
        self,
        api: ModuleApi,
        min_range: int,
        room_size: int,
        concurrency: int,
        refill_delay_seconds: float,
        claim_concurrency: int,
    ) -> None:
        self._api = api
        self._claim_concurrency = claim_concurrency
        self._refill_delay = refill_delay_seconds
        self.channel = PoolChannel(
            rooms_db.POOL, api.get_qualified_user_id(POOL_LOCALPART), POOL_NAME
        )
        self.rooms = Broadcasts(
            api,
            min_range,
            room_size,
            concurrency,
            style=SPARE_ROOMS,
            range_of=rooms_db.pool_range_txn,
            load=lambda _txn, _key: self.channel,
            pool_mode=True,
        )
        self._claim_lock = keyed_lock(api, "jwwx_openapi_pool_claim")
        self._building = False
        self._again = False
        self._refill_pending = False

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(f"jwwx_openapi_{desc}", fn, *args)

    # Building and refilling.

    def build_in_background(self) -> None:
        """Bring the pool up to date with the directory after the answer, once at a
        time (a call meanwhile runs it once more)."""
        if self._building:
            self._again = True
            return
        self._building = True
        self._api.run_as_background_process("jwwx_openapi_pool", self._build)

    def refill_later(self) -> None:
        """After a claim: build again once the claiming app's push had its turn."""
        if self._refill_pending:
            return
        self._refill_pending = True

        def refill() -> None:
            self._refill_pending = False
            self.build_in_background()

        self.later(refill)

    def later(self, fn: Callable[..., Any], *args: Any) -> None:
        """fn(*args) `broadcast_pool_refill_delay_seconds` from now: what a claim
        defers so that the claiming app's first push has the machine first."""

        async def run() -> None:
            await self._api.sleep(self._refill_delay)
            fn(*args)

        self._api.run_as_background_process("jwwx_openapi_pool_later", run)

    async def _build(self) -> None:
        try:
            again = True
            while again:
                self._again = False
                await self._ensure_bot()
                members = await self.rooms.sync(self.channel)
                logger.info("pool: %d officers in spare rooms", len(members))
                again = self._again
        except Exception:
            logger.exception("cannot build the pool of spare broadcast rooms")
        finally:
            self._building = False

    async def _ensure_bot(self) -> None:
        if await self._api.check_user_exists(self.channel.bot_user_id) is None:
            await self._api.register_user(POOL_LOCALPART, POOL_NAME)

    async def coverage(self) -> dict[str, Any]:
        counts: dict[str, Any] = await self._db("pool_counts", rooms_db.pool_counts_txn)
        counts["building"] = self._building
        return counts

    # Claims.

    async def claim(self, app: Channel, candidates: set[str]) -> list[str]:
        """Make the app's every spare room whose officers are all joined and all among
        `candidates` (the app's range, less the officers in its rooms); the rooms."""
        async with self._claim_lock("claim"):
            spare = await self._db("pool_spare", rooms_db.spare_rooms_txn)
            chosen = [
                (room, users)
                for room, users in sorted(spare.items())
                if users and all(u in candidates for u in users)
            ]
            claimed: list[str] = []

            async def one(item: tuple[str, list[str]]) -> None:
                room, users = item
                if not await self._db(
                    "pool_claim", rooms_db.claim_room_txn, room, app.key, users
                ):
                    return
                try:
                    await self._claim_events(app, room)
                except Exception:
                    logger.exception("cannot hand spare room %s to %s", room, app.key)
                    await self._db(
                        "pool_unclaim", rooms_db.unclaim_room_txn, room, app.key
                    )
                    return
                claimed.append(room)

            await run_concurrently(one, chosen, self._claim_concurrency)
        if claimed:
            logger.info("app %s claimed %d spare rooms", app.key, len(claimed))
        return sorted(claimed)

    async def _claim_events(self, app: Channel, room_id: str) -> None:
        """The room becomes the app's, as one batch: power for the app's bot, its
        join, the app's marker (the spare marker emptied), name, topic, avatar."""
        state = await self._api.get_room_state(room_id, [("m.room.power_levels", "")])
        levels = dict(state[("m.room.power_levels", "")].content)
        levels["users"] = {**levels.get("users", {}), app.bot_user_id: 100}
        pool_bot = self.channel.bot_user_id

        def by_pool(kind: str, content: dict[str, Any]) -> dict[str, Any]:
            return {
                "type": kind,
                "state_key": "",
                "sender": pool_bot,
                "content": content,
            }

        join: dict[str, Any] = {"membership": "join", "displayname": app.name}
        if app.avatar:
            join["avatar_url"] = app.avatar
        events = [
            by_pool("m.room.power_levels", levels),
            {
                "type": "m.room.member",
                "state_key": app.bot_user_id,
                "sender": app.bot_user_id,
                "content": join,
            },
            by_pool(APP_ROOMS.marker_type, {"agentid": app.key}),
            by_pool(SPARE_TYPE, {}),
            by_pool("m.room.name", {"name": app.name}),
            by_pool("m.room.topic", {"topic": APP_ROOMS.topic}),
        ]
        if app.avatar:
            events.append(by_pool("m.room.avatar", {"url": app.avatar}))
        await send_batch(self._api, pool_bot, room_id, events)
