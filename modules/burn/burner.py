# SPDX-License-Identifier: AGPL-3.0-or-later
"""Burn-after-read (阅后即焚).

A sender marks a message with MSC2228's unstable field `org.matrix.self_destruct` (or
`cn.jwwx.burn_after_read`): milliseconds to live after it has been read. The message is
recorded when it is sent (the spam checker's `check_event_for_spam`, which needs no room
state; other messages cost a look at their content); a loop on the main process then
1. notices the first read receipt (public or private) of someone other than the sender at
   or after the message, and starts its timer (burn_at = read time + TTL);
2. when the time is up, redacts the message (and its edits) for everyone, replaces its
   stored JSON by the pruned form and drops its search row (Synapse would otherwise keep
   the content for redaction_retention_period), and deletes the local media it references
   (not a file some favourite still re-references: it is not this message's alone).
Every step is in the database, so timers survive restarts. An audit copy is kept first
only when `audit_copy` says so (`keep_audit_copy` is the hook).

MSC2228 waits for receipts from all members; the bureau's rule is "once a recipient has
read it", so the first recipient's receipt starts the timer.
"""

import json
import logging
import re
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import unquote

from synapse.module_api import ModuleApi

from modules.audit import public as audit_public
from modules.burn import storage
from modules.burn.config import BurnConfig
from modules.burn.quotes import message_texts, quoted_texts, quotes_any
from modules.common import registry
from modules.common.errors import BURN_QUOTE_NOT_ALLOWED, error
from modules.common.markers import BURN_FIELDS as FIELDS
from modules.common.mxc import local_media_ids
from modules.common.pacer import Pacer
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.database import scrub_after_purge
from modules.common.synapse.errors import Codes, SynapseError
from modules.common.synapse.events import (
    get_event_with_position,
    get_stored_event,
    redacted_event_json,
)
from modules.common.synapse.media import delete_local_media
from modules.common.synapse.patches import AuthedRequest
from modules.common.synapse.tables import (
    censor_event_txn,
    furthest_reads_txn,
    relations_of_txn,
)
from modules.favorites.public import favourited_local_media

logger = logging.getLogger(__name__)

BURNABLE_TYPES = ("m.room.message", "m.sticker")
NOT_SPAM: Literal["NOT_SPAM"] = "NOT_SPAM"
SEND_PATH = re.compile(
    r"^/_matrix/client/[^/]+/rooms/[^/]+/send/(?P<type>[^/]+)/[^/]+$"
)
SpamResult = Literal["NOT_SPAM"] | tuple[Codes, dict[str, Any]]
REASON = "阅后即焚"
# A recorded message that never got persisted (refused later, e.g. by the keyword
# filter) is dropped after this long.
UNPERSISTED_GRACE_MS = 10 * 60 * 1000
RETRY_UNPERSISTED_MS = 500
BATCH = 500
# The live burn-after-read messages a quoting message is compared with.
QUOTE_SCAN = 200
# An incomplete rewrite (an old snapshot kept dead rows) is tried again this soon.
RETRY_REWRITE_MS = 60 * 1000
# Idle (nothing unread, no timer running), a message recorded on another process is
# looked at within this long (issue 17, item 2).
IDLE_MAX_S = 5.0


def related_event_id(content: Mapping[str, Any]) -> str | None:
    """The event this one relates to: m.relates_to's event_id (any rel_type: edit,
    reaction, thread, reference) or a reply's m.in_reply_to."""
    relates = content.get("m.relates_to")
    if not isinstance(relates, Mapping):
        return None
    reply = relates.get("m.in_reply_to")
    if isinstance(reply, Mapping) and isinstance(reply.get("event_id"), str):
        # A reply inside a thread names both; the quoted one is the reply target.
        return str(reply["event_id"])
    target = relates.get("event_id")
    return target if isinstance(target, str) else None


def burn_ttl(content: Mapping[str, Any], max_ttl_ms: int) -> int | None:
    """The message's time-to-live after reading (ms), None when not burn-after-read;
    ValueError for a bad value."""
    for field in FIELDS:
        value = content.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(field)
        if not 0 <= value <= max_ttl_ms:
            raise ValueError(field)
        return value
    return None


class Burner:
    def __init__(
        self, api: ModuleApi, config: BurnConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        # Events purged since the last scrub of the database files (B3), and when
        # the files were last rewritten (loaded at the first tick).
        self._purged = 0
        self._rewritten_ts: int | None = None
        self._retry_rewrite_at = 0
        # Nothing burned since the last rewrite, as last read: no need to ask again
        # every tick until this process burns something (burns run in this tick only).
        self._known_clean = False
        self.pacer = Pacer(
            api.get_current_time_msec, config.poll_interval_seconds, IDLE_MAX_S
        )

    async def check_event_for_spam(self, event: Any) -> SpamResult:
        """Local events: a bad TTL or a quote of a live burn message is raised (Synapse
        passes the SynapseError to the client); a remote event with a bad TTL is
        soft-failed (a raise would fail the federation transaction). A remote burn
        message (another police domain's, over federation) is tracked like a local
        one: this server burns its own copy once read, whatever the sender's does."""
        if event.is_state():
            return NOT_SPAM
        content = event.content
        ttl = None
        local = self._api.is_mine(event.sender)
        if event.type in BURNABLE_TYPES:
            try:
                ttl = burn_ttl(content, self._config.max_ttl_ms)
            except ValueError as e:
                if not local:
                    return Codes.INVALID_PARAM, {}
                raise self._bad_ttl(e) from e
        if not local and ttl is None:
            # Relations and quotes of burn messages are the sending bureau's rules.
            return NOT_SPAM
        related = related_event_id(content)
        if ttl is None and related is None and not quoted_texts(content):
            return NOT_SPAM
        await self._runtime.ready()
        parent = None
        if related is not None:
            parent = await self._api.run_db_interaction(
                "jwwx_burn_tracked", storage.tracked_txn, related
            )
        root = parent.root_event_id if parent is not None else None
        if local:
            await self._refuse_quotes(event, root)
        if parent is not None:
            # Edits, replies, reactions, threads... of a burn-after-read message burn
            # with it at the latest (and on their own timer if read first).
            ttl = parent.ttl_ms if ttl is None else min(ttl, parent.ttl_ms)
        if ttl is not None:
            await self._api.run_db_interaction(
                "jwwx_burn_record",
                storage.record_txn,
                event.event_id,
                event.room_id,
                event.sender,
                ttl,
                self._api.get_current_time_msec(),
                root,
                parent is not None and parent.burned,
            )
            self.pacer.wake()
        return NOT_SPAM

    def _bad_ttl(self, e: ValueError) -> SynapseError:
        return error(
            400,
            Codes.INVALID_PARAM,
            f"阅后即焚时长 {e} 必须是 0 到 {self._config.max_ttl_ms} 之间的整数（毫秒）",
        )

    async def check_send_request(self, request: AuthedRequest) -> None:
        """A request check: a TTL that is not an integer (1.5) would be refused by
        Synapse's JSON validation (M_BAD_JSON) before the spam checker sees the event;
        this gives it the same answer as any other bad TTL. Only a send whose body
        names a burn field is parsed."""
        if request.method != "PUT":
            return
        match = SEND_PATH.match(request.path)
        if match is None or unquote(match["type"]) not in BURNABLE_TYPES:
            return
        raw = request.body()
        if not any(field.encode() in raw for field in FIELDS):
            return
        try:
            content = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return  # Synapse answers M_NOT_JSON itself
        if isinstance(content, dict):
            try:
                burn_ttl(content, self._config.max_ttl_ms)
            except ValueError as e:
                raise self._bad_ttl(e) from e

    async def _refuse_quotes(self, event: Any, own_root: str | None) -> None:
        """A quote of a live burn-after-read message's text is refused, except in an
        event relating to that message (it burns with it)."""
        quotes = quoted_texts(event.content)
        if not quotes:
            return
        live = await self._api.run_db_interaction(
            "jwwx_burn_live", storage.live_in_room_txn, event.room_id, QUOTE_SCAN
        )
        for event_id, root in live:
            if own_root is not None and root == own_root:
                continue
            found = await get_event_with_position(self._api, event_id)
            if found is None or found[0].internal_metadata.is_redacted():
                continue
            if quotes_any(quotes, message_texts(found[0].content)):
                raise error(
                    400,
                    BURN_QUOTE_NOT_ALLOWED,
                    "不能引用阅后即焚消息的内容（可直接回复该消息，回复将随原消息一同焚毁）",
                )

    async def tick(self) -> None:
        if not self._runtime.is_ready:
            return
        if not self.pacer.due():
            await self._scrub()
            return
        now = self._api.get_current_time_msec()

        def work_txn(txn: Any) -> tuple[list[Any], list[Any], int | None]:
            # One round trip per tick (on PostgreSQL each is a transaction).
            unread = storage.unread_txn(txn, BATCH)
            due = storage.due_txn(txn, now, BATCH)
            return unread, due, storage.next_burn_at_txn(txn)

        unread, due, next_at = await self._api.run_db_interaction(
            "jwwx_burn_work", work_txn
        )
        # Unread messages: their receipts are looked for every tick; otherwise the
        # next read is when a timer runs out, a message is recorded here (wake) or
        # the idle wait is over (one recorded on another process).
        self.pacer.found(bool(unread or due), next_at)
        if unread:
            await self._start_timers(unread)
        if due:
            self._known_clean = False
        for message in due:
            try:
                await self.burn(message)
            except Exception:
                logger.exception("burning %s failed; retrying later", message.event_id)
        await self._scrub()

    async def _scrub(self) -> None:
        """The purged text must not stay in free pages, the WAL, dead tuples or index
        entries (docs/burn.md): a light scrub after every tick that burned something,
        the rewrite of the files at most every scrub_interval_seconds (retried
        sooner when an open snapshot kept dead rows)."""
        now = self._api.get_current_time_msec()
        if self._rewritten_ts is None:
            self._rewritten_ts = await self._api.run_db_interaction(
                "jwwx_burn_rewritten", storage.rewritten_ts_txn
            )
        interval_ms = int(self._config.scrub_interval_seconds * 1000)
        rewrite = False
        if (
            now >= self._retry_rewrite_at
            and now - self._rewritten_ts >= interval_ms
            and self._in_scrub_hours()
            and not self._known_clean
        ):
            rewrite = await self._api.run_db_interaction(
                "jwwx_burn_since", storage.burned_since_txn, self._rewritten_ts
            )
            self._known_clean = not rewrite
        if not self._purged and not rewrite:
            return
        try:
            complete = await scrub_after_purge(self._api, rewrite)
        except Exception:
            logger.exception("scrubbing after %d purged events failed", self._purged)
            complete = False
        if not rewrite:
            if complete:
                self._purged = 0
            return
        if not complete:
            self._retry_rewrite_at = now + min(interval_ms, RETRY_REWRITE_MS)
            logger.warning("database rewrite after burns incomplete; retrying later")
            return
        self._purged = 0
        # Burns from the start of this rewrite on wait for the next one.
        await self._api.run_db_interaction(
            "jwwx_burn_rewrote", storage.set_rewritten_txn, now
        )
        self._rewritten_ts = now
        logger.info(
            "database files rewritten after burns (%d ms)",
            self._api.get_current_time_msec() - now,
        )

    def _in_scrub_hours(self) -> bool:
        hours = self._config.scrub_hours
        return not hours or time.localtime().tm_hour in hours

    async def _start_timers(self, unread: list[storage.BurnMessage]) -> None:
        now = self._api.get_current_time_msec()
        reads_by_room: dict[str, dict[str, int]] = {}
        for message in unread:
            position = message.stream_ordering
            if position is None:
                found = await get_event_with_position(self._api, message.event_id)
                if found is None:
                    if now - message.created_ts > UNPERSISTED_GRACE_MS:
                        await self._api.run_db_interaction(
                            "jwwx_burn_forget", storage.forget_txn, message.event_id
                        )
                    continue
                position = found[1]
                await self._api.run_db_interaction(
                    "jwwx_burn_position",
                    storage.set_position_txn,
                    message.event_id,
                    position,
                )
            reads = reads_by_room.get(message.room_id)
            if reads is None:
                reads = await self._api.run_db_interaction(
                    "jwwx_burn_reads", furthest_reads_txn, message.room_id
                )
                reads_by_room[message.room_id] = reads
            readers = sorted(
                u for u, p in reads.items() if u != message.sender and p >= position
            )
            if readers:
                await self._api.run_db_interaction(
                    "jwwx_burn_mark_read",
                    storage.mark_read_txn,
                    message.event_id,
                    readers[0],
                    now,
                )

    async def burn(self, message: storage.BurnMessage) -> None:
        """Burn a message and everything relating to it: the events tracked with it
        (root_event_id) and, through Synapse's relations, edits/reactions/threads of
        each (also remote ones, which were never tracked here)."""
        ids = [message.event_id]
        if message.root_event_id is None:
            ids += await self._api.run_db_interaction(
                "jwwx_burn_children", storage.children_txn, message.event_id
            )
        for event_id in list(ids):
            for related in await self._api.run_db_interaction(
                "jwwx_burn_relations", relations_of_txn, event_id
            ):
                if related not in ids:
                    ids.append(related)
        originals = []
        for event_id in ids:
            found = await get_event_with_position(self._api, event_id)
            if found is not None:
                originals.append(found[0])
        live = [e for e in originals if not e.internal_metadata.is_redacted()]
        # Redacted by someone else first (e.g. the sending domain's own burn, arriving
        # over federation before ours ran): Synapse keeps their stored content for
        # redaction_retention_period; it is purged here all the same.
        elsewhere = []
        for event in originals:
            if event.internal_metadata.is_redacted():
                stored = await get_stored_event(self._api, event.event_id)
                if stored is not None and stored.content:
                    elsewhere.append(stored)
        if (live or elsewhere) and self._config.audit_copy:
            await self.keep_audit_copy(message, live + elsewhere)
        media: list[str] = []
        for event in live + elsewhere:
            for media_id in local_media_ids(event.content, self._api.server_name):
                if media_id not in media:
                    media.append(media_id)
        for event in live + elsewhere:
            pruned = redacted_event_json(event)
            if event in live:
                await self._redact(event)
            await self._api.run_db_interaction(
                "jwwx_burn_censor", censor_event_txn, event.event_id, pruned
            )
        if media and self._config.delete_media:
            kept = await favourited_local_media(self._api, media)
            await delete_local_media(self._api, [m for m in media if m not in kept])
        now = self._api.get_current_time_msec()
        persisted = {e.event_id for e in originals}
        # An event tracked but not persisted yet must not be marked burned before it
        # exists, or it would be stored with its content after "its" burn.
        again = await self._api.run_db_interaction(
            "jwwx_burn_again",
            storage.reschedule_unpersisted_txn,
            [i for i in ids if i not in persisted],
            now + RETRY_UNPERSISTED_MS,
            now - UNPERSISTED_GRACE_MS,
        )
        await self._api.run_db_interaction(
            "jwwx_burn_done",
            storage.mark_burned_txn,
            [i for i in ids if i not in again],
            now,
        )
        self._purged += len(live) + len(elsewhere)
        logger.info(
            "burned %s (%d events, %d redacted before, %d media)",
            message.event_id,
            len(live),
            len(elsewhere),
            len(media),
        )

    async def _redact(self, event: Any) -> None:
        """Redact for everyone, as the sender; if the sender cannot (left, muted), as a
        local member allowed to redact others' events."""
        for sender in await self._redactors(event):
            try:
                await self._api.create_and_send_event_into_room(
                    {
                        "type": "m.room.redaction",
                        "room_id": event.room_id,
                        "sender": sender,
                        "redacts": event.event_id,
                        "content": {"redacts": event.event_id, "reason": REASON},
                    }
                )
                return
            except SynapseError as e:
                logger.info("%s cannot redact %s: %s", sender, event.event_id, e)
        # Nobody can send into the room any more (e.g. a dissolved group): the content
        # is purged from the database all the same.
        logger.warning("no redaction for %s; content purged only", event.event_id)

    async def _redactors(self, event: Any) -> list[str]:
        state = await self._api.get_room_state(
            event.room_id, [("m.room.power_levels", ""), ("m.room.member", None)]
        )
        levels_event = state.get(("m.room.power_levels", ""))
        levels = dict(levels_event.content) if levels_event is not None else {}
        raw_users = levels.get("users")
        users: dict[str, Any] = raw_users if isinstance(raw_users, dict) else {}
        redact_level = levels.get("redact", 50)
        candidates = [event.sender] if self._api.is_mine(event.sender) else []
        joined = sorted(
            key
            for (event_type, key), member in state.items()
            if event_type == "m.room.member"
            and member.content.get("membership") == "join"
            and self._api.is_mine(key)
        )
        by_level = sorted(joined, key=lambda u: -int(users.get(u, 0)))
        for user_id in by_level:
            if (
                int(users.get(user_id, 0)) >= int(redact_level)
                and user_id not in candidates
            ):
                candidates.append(user_id)
        return candidates

    async def keep_audit_copy(
        self, message: storage.BurnMessage, events: list[Any]
    ) -> None:
        """The audit hook: an "audit" module service takes the copy when there is one
        (`archive_burned_message(event_json)`); otherwise jwwx_burn_audit keeps it."""
        now = self._api.get_current_time_msec()
        for event in events:
            event_json = json.dumps(event.get_pdu_json(), ensure_ascii=False)
            try:
                audit = registry.lookup(self._api, audit_public.SERVICE)
            except registry.ServiceMissingError:
                audit = None
            if audit is not None:
                await audit.archive_burned_message(event_json)
                continue
            await self._api.run_db_interaction(
                "jwwx_burn_audit",
                storage.keep_audit_copy_txn,
                event.event_id,
                message.room_id,
                event.sender,
                event_json,
                now,
            )
