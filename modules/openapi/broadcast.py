# SPDX-License-Identifier: AGPL-3.0-or-later
"""Pushes to an app's whole range (touser=@all, or parties/tags that cover the range)
go into the app's broadcast rooms: one event per room instead of one per officer.

Every deliverable officer of the range is a member of exactly one of the app's
broadcast rooms (`broadcast_room_size` members each, 100 by default): the app's
read-only channel, named after the app. Only the bot may post (events_default 100), so replies stay in
the officer's private conversation (conversations.py); history is visible from one's
join, so an officer who enters the range later does not read earlier pushes.

Membership is what costs: one join event per officer, and a join wakes the /sync of
every member already in the room. So a room's officers are joined as one batch of
join events persisted together (the room's members are woken once per batch, not per
join), small rooms side by side (`broadcast_join_concurrency`); officers one by one
only when a batch is refused. Members are joined when the app's range is set
(and by the periodic sweep); a push first brings membership up to date (joins the
missing, removes who left the range) and then sends. The rooms' join rule is public
so one event per officer suffices; `user_may_join_room` lets in only the officers
recorded here (jwwx_openapi_broadcast_members), so a removed officer cannot rejoin.
An app's first rooms are normally not built here but claimed: spare rooms of the
pool (pool.py), joined before the app existed, that lie wholly in its range; the
claim's events go with the app's first push into the room (send).
See docs/openapi.md ("Pushes to the whole range") for the numbers.
"""

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from synapse.module_api import NOT_SPAM, ModuleApi

from modules.common.storage import Txn
from modules.common.synapse.errors import Codes
from modules.common.synapse.events import event_stream_ordering
from modules.common.synapse.rooms import join_batch, join_unlimited
from modules.common.synapse.runtime import keyed_lock, run_concurrently
from modules.openapi import storage
from modules.openapi.pacing import Pacer
from modules.openapi.scope import scope_txn
from modules.openapi.storage import App
from modules.openapi.storage import broadcast as rooms_db

logger = logging.getLogger(__name__)

MARKER_TYPE = "cn.jwwx.openapi.broadcast"
JOIN_BATCH = 100
KNOWN_ROOMS = 4096


class Channel(Protocol):
    """Who owns a set of broadcast rooms: an app, or a public account
    (modules.public_accounts, through modules/openapi/public.py)."""

    @property
    def key(self) -> int: ...

    @property
    def bot_user_id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def avatar(self) -> str | None: ...


class SparePool(Protocol):
    """The pool of spare rooms an app claims from (pool.py)."""

    async def claim(self, app: Channel, candidates: set[str]) -> list[str]: ...

    def refill_later(self) -> None: ...

    def later(self, fn: Callable[..., Any], *args: Any) -> None: ...

    async def unannounced(self, app: Channel) -> set[str]: ...

    async def send_with_claim(
        self, app: Channel, room_id: str, content: dict[str, Any] | None
    ) -> tuple[str, int] | None: ...


class RoomStore(Protocol):
    """The SQL of one owner kind's rooms and members, keyed by Channel.key, on the
    tables of the package that owns them (modules/openapi/storage/broadcast.py)."""

    def rooms_txn(self, txn: Txn, key: int) -> list[str]: ...

    def agentid_of_room_txn(self, txn: Txn, room_id: str) -> int | None: ...

    def add_room_txn(self, txn: Txn, key: int, room_id: str, now: int) -> None: ...

    def members_txn(self, txn: Txn, key: int) -> dict[str, tuple[str, bool]]: ...

    def is_expected_txn(self, txn: Txn, room_id: str, userid: str) -> bool: ...

    def expect_txn(self, txn: Txn, key: int, rows: list[tuple[str, str]]) -> None: ...

    def mark_joined_txn(self, txn: Txn, key: int, userids: list[str]) -> None: ...

    def forget_txn(self, txn: Txn, key: int, userids: list[str]) -> None: ...

    def joined_count_txn(self, txn: Txn, key: int) -> int: ...


@dataclass(frozen=True)
class RoomStyle:
    """How one owner kind's rooms look: `name` prefixes database descriptions and the
    lock; `history_visibility` "joined" (apps: pushes from one's join on) or "shared"
    (public accounts: the account's history is there for new subscribers)."""

    name: str
    marker_type: str
    topic: str
    history_visibility: str


APP_ROOMS = RoomStyle(
    "openapi",
    MARKER_TYPE,
    "应用通知（只读，回复请在与应用的会话中发送）",
    "joined",
)


def range_txn(txn: Txn, app: App) -> list[str]:
    """Every deliverable member of the app's range: who belongs in its rooms."""
    return rooms_db.range_txn(txn, scope_txn(txn, app).members)


class Broadcasts:
    """Broadcast rooms of apps by default; another owner kind passes its own store,
    style, range (who belongs: `range_of(txn, channel)`), loader (`load(txn, key)`,
    for the background preparation) and what to do with a new room before anyone
    joins it (`on_room_created`)."""

    def __init__(
        self,
        api: ModuleApi,
        min_range: int,
        room_size: int,
        concurrency: int,
        *,
        store: RoomStore = rooms_db,
        style: RoomStyle = APP_ROOMS,
        range_of: Callable[[Txn, Any], list[str]] = range_txn,
        load: Callable[[Txn, int], Any] = storage.get_app_txn,
        on_room_created: Callable[[Any, str], Awaitable[None]] | None = None,
        pool: "SparePool | None" = None,
        pool_mode: bool = False,
        pacer: Pacer | None = None,
    ) -> None:
        self._api = api
        self._min_range = min_range
        self._room_size = room_size
        self._concurrency = concurrency
        self._store = store
        self._style = style
        self._range_of = range_of
        self._load = load
        # Called with (channel, room) before anyone is joined to a new room (public
        # accounts put their history there).
        self._on_room_created = on_room_created
        # Apps claim spare rooms from the pool (pool.py) before building their own;
        # pool_mode: this is the pool itself (officers placed in range order, only
        # into new rooms: a spare room is never added to once complete).
        self._pool = pool
        self._pool_mode = pool_mode
        # Pushes go into the rooms one at a time, each once the /sync answers the
        # rooms before it woke are nearly done (pacing.py); None: side by side.
        self._pacer = pacer if pacer is not None and pacer.enabled else None
        self._claimed: set[int] = set()  # apps whose last sync claimed spare rooms
        self._lock = keyed_lock(api, f"jwwx_{style.name}_broadcast")
        # room_id → agentid (None: not a broadcast room); room ids are never reused.
        self._known: OrderedDict[str, int | None] = OrderedDict()
        self._preparing: dict[int, bool] = {}

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def _db(self, desc: str, fn: Any, *args: Any) -> Any:
        return await self._api.run_db_interaction(
            f"jwwx_{self._style.name}_{desc}", fn, *args
        )

    # The join check (spam-checker callback user_may_join_room).

    async def _agentid_of(self, room_id: str) -> int | None:
        if room_id in self._known:
            return self._known[room_id]
        agentid = await self._db(
            "broadcast_room_app", self._store.agentid_of_room_txn, room_id
        )
        self._known[room_id] = agentid
        while len(self._known) > KNOWN_ROOMS:
            self._known.popitem(last=False)
        return agentid

    async def user_may_join_room(
        self, user_id: str, room_id: str, is_invited: bool
    ) -> Literal["NOT_SPAM"] | Codes:
        if await self._agentid_of(room_id) is None:
            return NOT_SPAM
        userid = user_id[1:].split(":", 1)[0]
        expected = self._api.is_mine(user_id) and await self._db(
            "broadcast_expected", self._store.is_expected_txn, room_id, userid
        )
        return NOT_SPAM if expected else Codes.FORBIDDEN

    # Membership.

    async def _create_room(self, app: Channel) -> str:
        initial_state: list[dict[str, Any]] = [
            {
                "type": "m.room.join_rules",
                "state_key": "",
                "content": {"join_rule": "public"},
            },
            {
                "type": "m.room.history_visibility",
                "state_key": "",
                "content": {"history_visibility": self._style.history_visibility},
            },
            {
                "type": "m.room.guest_access",
                "state_key": "",
                "content": {"guest_access": "forbidden"},
            },
            {
                "type": self._style.marker_type,
                "state_key": "",
                "content": {"agentid": app.key},
            },
        ]
        if app.avatar:
            initial_state.append(
                {
                    "type": "m.room.avatar",
                    "state_key": "",
                    "content": {"url": app.avatar},
                }
            )
        # trusted_private_chat: modules.groups does not make it a group.
        room_id, _ = await self._api.create_room(
            app.bot_user_id,
            {
                "preset": "trusted_private_chat",
                "name": app.name,
                "topic": self._style.topic,
                "initial_state": initial_state,
                "power_level_content_override": {
                    "events_default": 100,
                    "state_default": 100,
                    "invite": 100,
                    "redact": 100,
                    "users_default": 0,
                    "users": {app.bot_user_id: 100},
                },
            },
            ratelimit=False,
        )
        await self._db(
            "broadcast_room",
            self._store.add_room_txn,
            app.key,
            room_id,
            self._now(),
        )
        self._known[room_id] = app.key
        if self._on_room_created is not None:
            await self._on_room_created(app, str(room_id))
        return str(room_id)

    async def sync(self, app: Channel) -> dict[str, str]:
        """Bring the app's rooms to exactly the deliverable members of its range (join
        the missing, remove who left); userid → room of every joined member."""
        async with self._lock(str(app.key)):
            return await self._sync(app)

    def wanted(self, range_size: int) -> bool:
        """Whether an app with this many deliverable officers uses broadcast rooms."""
        return range_size >= self._min_range

    async def _sync(self, app: Channel) -> dict[str, str]:
        in_order = await self._db("broadcast_range", self._range_of, app)
        wanted = set(in_order)
        current = await self._db("broadcast_members", self._store.members_txn, app.key)
        if not current and not self.wanted(len(wanted)):
            return {}  # a small app: its pushes go to the conversations
        claimed: list[str] = []
        if self._pool is not None and wanted - set(current):
            claimed = await self._pool.claim(app, wanted - set(current))
            if claimed:
                self._claimed.add(app.key)
                self._known.update((room, app.key) for room in claimed)
                current = await self._db(
                    "broadcast_members", self._store.members_txn, app.key
                )
        leaving = [(u, r) for u, (r, _) in current.items() if u not in wanted]
        if leaving and self._pool is not None:
            # The app's bot removes them: a claimed room's claim must be sent first.
            held = await self._pool.unannounced(app)
            for room in sorted({r for _, r in leaving} & held):
                await self._pool.send_with_claim(app, room, None)
        if leaving:
            await run_concurrently(
                lambda item: self._remove(app, *item), leaving, self._concurrency
            )
            await self._db(
                "broadcast_forget",
                self._store.forget_txn,
                app.key,
                [u for u, _ in leaving],
            )
        # Fill the rooms that have space, then new ones.
        sizes: dict[str, int] = {
            r: 0
            for r in await self._db("broadcast_rooms", self._store.rooms_txn, app.key)
        }
        for u, (r, _) in current.items():
            if u in wanted:
                sizes[r] = sizes.get(r, 0) + 1
        todo: dict[str, list[str]] = {
            r: []
            for r in sorted(sizes)
            if sizes[r] < self._room_size and not self._pool_mode
        }
        for u, (r, joined) in current.items():
            if u in wanted and not joined:
                todo.setdefault(r, []).append(u)
        new_rows: list[tuple[str, str]] = []
        if self._pool_mode:
            newcomers = [u for u in in_order if u not in current]
        else:
            newcomers = sorted(wanted - set(current))
        placed = 0
        for userid in [] if self._pool_mode else newcomers:
            room = next((r for r in todo if sizes[r] < self._room_size), None)
            if room is None:
                break
            sizes[room] += 1
            todo[room].append(userid)
            new_rows.append((userid, room))
            placed += 1
        newcomers = newcomers[placed:]
        if new_rows:
            await self._db(
                "broadcast_expect", self._store.expect_txn, app.key, new_rows
            )
        # Rooms that have space first, then new rooms, each created and filled by
        # one task: rooms are built side by side, and the first officers are reached
        # while later rooms are still being created (not after all the creations).
        work: list[tuple[str | None, list[str]]] = [
            (r, users) for r, users in todo.items() if users
        ]
        work += [
            (None, newcomers[start : start + self._room_size])
            for start in range(0, len(newcomers), self._room_size)
        ]
        if work:
            await run_concurrently(
                lambda item: self._fill_room(app, *item), work, self._concurrency
            )
        members = await self._db("broadcast_members", self._store.members_txn, app.key)
        if claimed and self._pool is not None:
            self._pool.refill_later()  # new spare rooms for the claimed officers
        return {u: r for u, (r, joined) in members.items() if joined}

    async def _fill_room(
        self, app: Channel, room_id: str | None, userids: list[str]
    ) -> None:
        """Join officers to a room, creating it first when room_id is None."""
        if room_id is None:
            room_id = await self._create_room(app)
            await self._db(
                "broadcast_expect",
                self._store.expect_txn,
                app.key,
                [(u, room_id) for u in userids],
            )
        await self._join_room(app, room_id, userids)

    async def _join_room(self, app: Channel, room_id: str, userids: list[str]) -> None:
        """Join officers to one room, a batch of join events at a time: the members
        already there are woken once per batch, not once per join."""
        for start in range(0, len(userids), JOIN_BATCH):
            batch = userids[start : start + JOIN_BATCH]
            user_ids = [self._api.get_qualified_user_id(u) for u in batch]
            try:
                await join_batch(self._api, app.bot_user_id, room_id, user_ids)
                joined = batch
            except Exception:
                logger.exception("joining %d to %s at once failed", len(batch), room_id)
                joined = await self._join_one_by_one(room_id, batch)
            await self._db(
                "broadcast_joined", self._store.mark_joined_txn, app.key, joined
            )

    async def _join_one_by_one(self, room_id: str, userids: list[str]) -> list[str]:
        joined = []
        for userid in userids:
            try:
                await join_unlimited(
                    self._api, self._api.get_qualified_user_id(userid), room_id
                )
                joined.append(userid)
            except Exception:
                # Left pending: the next push or sweep tries again.
                logger.exception("cannot join %s to %s", userid, room_id)
        return joined

    async def _remove(self, app: Channel, userid: str, room_id: str) -> None:
        user_id = self._api.get_qualified_user_id(userid)
        try:
            await self._api.update_room_membership(
                app.bot_user_id, user_id, room_id, "leave"
            )
        except Exception as e:  # already left on their own
            logger.info("cannot remove %s from %s: %s", user_id, room_id, e)

    async def ready_rooms(
        self, app: Channel, allowed: set[str]
    ) -> dict[str, list[str]]:
        """Rooms already complete, read without the app's lock (while a build holds
        it): room → its officers, for rooms whose recorded officers are all joined and
        all in `allowed` (the push's recipients: a room still holding someone who
        left the range waits for the build to remove them)."""
        rows = await self._db("broadcast_members", self._store.members_txn, app.key)
        rooms: dict[str, list[str]] = {}
        pending: set[str] = set()
        for userid, (room, joined) in rows.items():
            if not joined or userid not in allowed:
                pending.add(room)
            rooms.setdefault(room, []).append(userid)
        return {r: sorted(us) for r, us in rooms.items() if r not in pending}

    async def joined_count(self, agentid: int) -> int:
        return int(
            await self._db("broadcast_count", self._store.joined_count_txn, agentid)
        )

    # Background preparation (app created, range saved, periodic sweep).

    def prepare_in_background(self, app: Channel, then: Any = None) -> None:
        """sync() after the answer, one per app at a time (a call meanwhile runs it
        once more); `then(app)` afterwards (the conversations' preparation)."""
        if app.key in self._preparing:
            self._preparing[app.key] = True
            return
        self._preparing[app.key] = False
        self._api.run_as_background_process(
            "jwwx_openapi_prepare_broadcast", self._prepare, app.key, then
        )

    async def _prepare(self, agentid: int, then: Any) -> None:
        app = None
        try:
            again = True
            while again:
                self._preparing[agentid] = False
                app = await self._db("get_app", self._load, agentid)
                if app is None:
                    return
                members = await self.sync(app)
                logger.info(
                    "app %s: %d officers in its broadcast rooms", agentid, len(members)
                )
                again = self._preparing[agentid]
        except Exception:
            logger.exception("cannot prepare the broadcast rooms of app %s", agentid)
        finally:
            self._preparing.pop(agentid, None)
        if then is not None and app is not None:
            if self._pool is not None and agentid in self._claimed:
                # Rooms claimed: ready in seconds, and the app's first push comes
                # now; what follows (its conversations, ≈ 185 transactions each)
                # waits as the pool's refill does.
                self._claimed.discard(agentid)
                self._pool.later(then, app)
            else:
                then(app)

    # Delivery.

    async def send(
        self, app: Channel, content: dict[str, Any], rooms: list[str]
    ) -> dict[str, tuple[str, int | None]]:
        """One event per room (paced when configured: pacing.py): room → (event_id,
        stream ordering) of those sent. Into a claimed room not announced yet, the
        event goes as the last of the claim's batch (pool.py): the officers are woken
        once for both."""
        sent: dict[str, tuple[str, int | None]] = {}
        held = await self._pool.unannounced(app) if self._pool is not None else set()

        async def send_one(room_id: str) -> None:
            try:
                if room_id in held and self._pool is not None:
                    with_claim = await self._pool.send_with_claim(app, room_id, content)
                    if with_claim is not None:
                        sent[room_id] = with_claim
                        return
                event = await self._api.create_and_send_event_into_room(
                    {
                        "type": "m.room.message",
                        "room_id": room_id,
                        "sender": app.bot_user_id,
                        "content": content,
                    }
                )
                sent[room_id] = (event.event_id, event_stream_ordering(event))
            except Exception:
                logger.exception("cannot push into broadcast room %s", room_id)

        if self._pacer is not None:
            for room_id in rooms:
                await self._pacer.send(room_id, self._room_size, send_one)
            logger.info("paced push of %s: %s", app.key, self._pacer.stats())
        else:
            await run_concurrently(send_one, rooms, self._concurrency)
        return sent
