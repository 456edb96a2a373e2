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
(and in none of its rooms yet) becomes the app's: its rows move to the app at once, and
one batch of state events (send_batch: the members are woken once) gives it the app's
name, avatar and marker and joins the app's bot with power 100; the pool's bot keeps
power to administer it. That batch is held back ("claimed, not yet announced": the
room's announce_ts, durable) until the app's first push into the room, which goes as
the batch's last event (each officer's /sync answers once for the claim and the push,
not twice), or until `broadcast_claim_announce_seconds` after the claim, when the jobs
instance sends it alone (also after a restart). One announcer per room, across
processes: a guarded transition of announce_ts (a lease, so that an announcer that died
is replaced); a push that finds the room being announced waits until it is. The
officers the claimed rooms do not cover (the rooms
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

from modules.common.synapse.database import run_serialized_write
from modules.common.synapse.rooms import send_batch
from modules.common.synapse.runtime import keyed_lock, run_concurrently
from modules.common.synapse.tables import first_message_by_txn
from modules.openapi import storage
from modules.openapi.broadcast import APP_ROOMS, Broadcasts, Channel, RoomStyle
from modules.openapi.storage import broadcast as rooms_db

logger = logging.getLogger(__name__)

SPARE_TYPE = "cn.jwwx.openapi.spare"
POOL_LOCALPART = "jwwx_notices"
POOL_NAME = "应用通知"
SPARE_ROOMS = RoomStyle("openapi_pool", SPARE_TYPE, "应用通知（只读）", "joined")
# A room's announcer holds it this long; after it, another one takes over.
ANNOUNCE_LEASE_MS = 120_000
# A failed timed announce is tried again this much later.
ANNOUNCE_RETRY_MS = 30_000
# A push waiting for another process's announce of a room looks this often, this long.
ANNOUNCE_WAIT_SECONDS = 0.5
ANNOUNCE_WAIT_STEPS = int(ANNOUNCE_LEASE_MS / 1000 / ANNOUNCE_WAIT_SECONDS) + 10


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
        announce_seconds: float = 0,
    ) -> None:
        self._api = api
        self._claim_concurrency = claim_concurrency
        self._refill_delay = refill_delay_seconds
        # 0: a claim's events are sent at once (not held back for the first push).
        self._announce_ms = int(announce_seconds * 1000)
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
        self._announce_lock = keyed_lock(api, "jwwx_openapi_pool_announce")
        self._building = False
        self._again = False
        self._refill_pending = False
        # The process's pacing of pushes into broadcast rooms (pacing.py), shown with
        # the pool's counts.
        self.pacing: Callable[[], dict[str, Any]] | None = None

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
        if self.pacing is not None:
            counts["pacing"] = self.pacing()
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

            held = self._announce_ms > 0
            due = self._now() + self._announce_ms if held else None

            async def one(item: tuple[str, list[str]]) -> None:
                room, users = item
                if not await self._db(
                    "pool_claim", rooms_db.claim_room_txn, room, app.key, users, due
                ):
                    return
                if held:
                    claimed.append(room)  # announced by the first push, or when due
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

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    # Announcing a claim (held back for the app's first push).

    async def unannounced(self, app: Channel) -> set[str]:
        """The app's claimed rooms whose claim events are not sent yet."""
        return set(
            await self._db("pool_unannounced", rooms_db.unannounced_txn, app.key)
        )

    async def _take(self, room_id: str, due_only: bool) -> int | None:
        """Become the room's announcer: the lease's end, or None (not ours)."""
        now = self._now()
        lease = now + ANNOUNCE_LEASE_MS
        taken = await run_serialized_write(
            self._api,
            "jwwx_openapi_pool_announce_take",
            f"jwwx_openapi_pool_announce:{room_id}",
            rooms_db.take_announce_txn,
            room_id,
            now,
            lease,
            due_only,
        )
        return lease if taken else None

    async def _end(self, room_id: str, lease: int, again_at: int | None) -> None:
        await run_serialized_write(
            self._api,
            "jwwx_openapi_pool_announce_end",
            f"jwwx_openapi_pool_announce:{room_id}",
            rooms_db.end_announce_txn,
            room_id,
            lease,
            again_at,
        )

    async def send_with_claim(
        self, app: Channel, room_id: str, content: dict[str, Any] | None
    ) -> tuple[str, int] | None:
        """Announce a claimed room now, with a push's message (`content`) as the
        batch's last event: the message's (event id, stream ordering). None when the
        room was announced by someone else (the push then goes alone, as into any
        room of the app): if another process is announcing it, waits until it did.
        Raises when the batch is refused (the claim is then due again)."""
        for _ in range(ANNOUNCE_WAIT_STEPS):
            async with self._announce_lock(room_id):
                lease = await self._take(room_id, due_only=False)
                if lease is not None:
                    return await self._announce(app, room_id, lease, content, 0)
            state = await self._db(
                "pool_announce_state", rooms_db.announce_state_txn, room_id
            )
            if state is None or state > 0:
                if state is None:
                    return None  # announced
                continue  # its announcer failed: take it
            await self._api.sleep(ANNOUNCE_WAIT_SECONDS)
        raise RuntimeError(f"claimed room {room_id} still being announced")

    async def announce_due(self) -> None:
        """Send the claim events of the claimed rooms whose first push did not come
        within `broadcast_claim_announce_seconds` (or whose announcer died): the
        jobs instance, every few seconds."""
        due = await self._db("pool_due", rooms_db.due_announces_txn, self._now())

        async def one(item: tuple[str, int]) -> None:
            room_id, agentid = item
            app = await self._db("get_app", storage.get_app_txn, agentid)
            if app is None:
                return
            async with self._announce_lock(room_id):
                lease = await self._take(room_id, due_only=True)
                if lease is None:
                    return
                try:
                    await self._announce(app, room_id, lease, None, ANNOUNCE_RETRY_MS)
                except Exception:
                    logger.exception("cannot announce the claim of room %s", room_id)

        await run_concurrently(one, due, self._claim_concurrency)
        if due:
            logger.info("announced %d claimed rooms without a push", len(due))

    async def _announce(
        self,
        app: Channel,
        room_id: str,
        lease: int,
        content: dict[str, Any] | None,
        retry_ms: int,
    ) -> tuple[str, int] | None:
        """Send the claim events (and the push) as the holder of `lease`."""
        try:
            await self._claim_events(app, room_id, content)
        except Exception:
            await self._end(room_id, lease, self._now() + retry_ms)
            raise
        await self._end(room_id, lease, None)
        if content is None:
            return None
        found: tuple[str, int] | None = await self._db(
            "pool_pushed", first_message_by_txn, room_id, app.bot_user_id
        )
        if found is None:
            raise RuntimeError(f"push sent with the claim of {room_id} not found")
        return found

    async def _claim_events(
        self, app: Channel, room_id: str, push: dict[str, Any] | None = None
    ) -> None:
        """The room becomes the app's, as one batch: power for the app's bot, its
        join, the app's marker (the spare marker emptied), name, topic, avatar; then
        the app's push (a message's content), if any."""
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
        if push is not None:
            events.append(
                {"type": "m.room.message", "sender": app.bot_user_id, "content": push}
            )
        await send_batch(self._api, pool_bot, room_id, events)
