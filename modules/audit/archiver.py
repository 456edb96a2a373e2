# SPDX-License-Identifier: AGPL-3.0-or-later
"""The archiver: Synapse's event stream and the hook inbox → the audit chain.

Crash safety: the archive is a consumer of Synapse's own event stream with a durable
cursor (jwwx_audit_head.stream_ordering). Each step reads the events after the cursor
(never past the position up to which Synapse has persisted everything), hashes their
media, and then in ONE transaction appends their records, the waiting inbox records,
and moves the cursor. If the process dies anywhere before that commit, nothing of the
step is kept and the next start repeats it from the same cursor; after the commit, the
cursor is past those events. So every event is archived exactly once, and sending a
message never waits for the archive.
"""

import logging
from typing import Any

from prometheus_client import Counter, Gauge
from synapse.module_api import ModuleApi

from modules.audit import events, storage
from modules.audit.config import AuditConfig
from modules.audit.media import fingerprint
from modules.audit.policy import BURN_POLICY, BurnPolicy
from modules.audit.storage import Draft
from modules.common import registry
from modules.common.pacer import Pacer
from modules.common.runtime import ModuleRuntime
from modules.common.storage import Txn
from modules.common.synapse.events import persisted_stream_ordering
from modules.common.synapse.media import read_local_media
from modules.common.synapse.tables import (
    StreamEvent,
    local_media_rows_txn,
    stream_events_after_txn,
)

logger = logging.getLogger(__name__)

FOREIGN = Counter(
    "jwwx_audit_foreign_records",
    "Rows found past the audit chain head and moved to jwwx_audit_quarantine",
)
QUARANTINED = Gauge(
    "jwwx_audit_quarantined_records",
    "Quarantined audit rows not yet reviewed (jwwx_audit_quarantine.reviewed_ts)",
)
ALERT = "foreign_records"
IDLE_MAX_S = 5.0  # idle, another process's inbox rows wait at most this long


# (records appended, rows quarantined) by one archive transaction.
Archived = tuple[int, list[dict[str, Any]]]


def _media_refs(item: StreamEvent) -> list[dict[str, Any]]:
    return [] if "state_key" in item.event else events.media_refs(item.event)


def _message_ids(batch: list[StreamEvent]) -> list[str]:
    return [item.event_id for item in batch if "state_key" not in item.event]


def _new_stream(
    head: storage.Head, batch: list[StreamEvent], upto: int, limit: int
) -> int:
    """Where the cursor goes after this batch: its last event when it was full."""
    new_stream = batch[-1].stream_ordering if len(batch) >= limit else upto
    return max(new_stream, head.stream_ordering)


class Archiver:
    def __init__(
        self, api: ModuleApi, config: AuditConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self._busy = False
        self._alert_loaded = False
        # Idle, the archiver reads only when events were persisted past what it has
        # archived, or this process added to the inbox (wake); other processes'
        # inbox rows within IDLE_MAX_S (issue 17, item 2).
        self.pacer = Pacer(
            api.get_current_time_msec, config.poll_interval_seconds, IDLE_MAX_S
        )
        self._archived_upto = -1

    async def tick(self) -> None:
        # A long catch-up (first start on a large history) spans many ticks.
        if not self._runtime.is_ready or self._busy:
            return
        if persisted_stream_ordering(self._api) > self._archived_upto:
            self.pacer.wake()
        if self.pacer.due():
            self.pacer.found(await self.catch_up() > 0)

    async def catch_up(self) -> int:
        """Archive until the cursor reaches the persisted stream position and the inbox
        is empty; returns how many records were appended. One run at a time."""
        while self._busy:
            await self._api.sleep(0.02)
        self._busy = True
        total = 0
        try:
            while True:
                appended, more = await self._step()
                total += appended
                if not more:
                    return total
        finally:
            self._busy = False

    async def _quarantine_foreign(self) -> bool:
        """Rows past the head (a forged record, or a rewound head) would make every
        append fail on the unique seq: move them to the quarantine and alert, then
        go on archiving. Looked for in every step's read: cheap when there are none."""
        found = await self._api.run_db_interaction(
            "jwwx_audit_quarantine",
            storage.quarantine_txn,
            self._config.keys,
            self._api.get_current_time_msec(),
        )
        await self._quarantined(found)
        return bool(found)

    async def _quarantined(self, found: list[dict[str, Any]]) -> None:
        if not found:
            return
        FOREIGN.inc(len(found))
        logger.error(
            "audit: %d foreign row(s) past the chain head moved to"
            " jwwx_audit_quarantine (seq, reason): %s",
            len(found),
            ", ".join(f"{f['seq']} {f['reason']}" for f in found),
        )
        await self.refresh_alert()

    async def refresh_alert(self) -> None:
        """Health and metric from the unreviewed quarantine rows (survives restarts)."""
        count = await self._api.run_db_interaction(
            "jwwx_audit_quarantine_count", storage.unreviewed_quarantine_txn
        )
        self._alert_loaded = True
        QUARANTINED.set(count)
        if count:
            self._runtime.alert(
                ALERT,
                f"{count} 条外来审计记录已隔离至 jwwx_audit_quarantine，待审计管理员核查",
            )
        else:
            self._runtime.clear_alert(ALERT)

    async def _step(self) -> tuple[int, bool]:
        limit = self._config.batch_size
        if not self._alert_loaded or self._runtime.has_alert(ALERT):
            await self.refresh_alert()
        upto = persisted_stream_ordering(self._api)
        burn = self._burn_service()
        marks_burning = not self._burn_content_kept()
        now = self._api.get_current_time_msec()

        # One transaction per step (on SQLite every transaction queues for the
        # connection message persistence needs): foreign rows, the head, events, the
        # inbox and, when the events need nothing outside the database (no media to
        # describe and fingerprint), the archive itself (issue 17, item 2).
        def read_txn(
            txn: Txn,
        ) -> tuple[storage.Head, bool, list[StreamEvent], list[Any], Archived | None]:
            head, beyond = storage.beyond_head_txn(txn, 1)
            if beyond:
                return head, True, [], [], None
            batch: list[StreamEvent] = []
            if head.stream_ordering < upto:
                batch = stream_events_after_txn(txn, head.stream_ordering, upto, limit)
            inbox = storage.inbox_txn(txn, limit)
            if any(_media_refs(item) for item in batch):
                return head, False, batch, inbox, None
            burning: set[str] = set()
            if marks_burning:
                assert burn is not None
                tracked = burn.tracked_ids_txn(txn, _message_ids(batch))
                if tracked is None:  # modules.burn still starting
                    return head, False, batch, inbox, None
                burning = tracked
            new_stream = _new_stream(head, batch, upto, limit)
            if new_stream == head.stream_ordering and not inbox:
                return head, False, batch, inbox, (0, [])
            archived = self._archive_txn(
                txn, head, new_stream, batch, inbox, {}, burning, now
            )
            return head, False, batch, inbox, archived

        head, foreign, batch, inbox, archived = await self._api.run_db_interaction(
            "jwwx_audit_read", read_txn
        )
        if foreign:
            # Then this step again, from a clean head (unless nothing could be moved).
            return 0, await self._quarantine_foreign()
        new_stream = _new_stream(head, batch, upto, limit)
        if archived is None:
            media = await self._media_of(batch)
            burning = await self._burning(batch)
            if new_stream == head.stream_ordering and not inbox:
                archived = (0, [])
            else:
                archived = await self._api.run_db_interaction(
                    "jwwx_audit_archive",
                    self._archive_txn,
                    head,
                    new_stream,
                    batch,
                    inbox,
                    media,
                    burning,
                    self._api.get_current_time_msec(),
                )
        appended, quarantined = archived
        await self._quarantined(quarantined)
        more = len(batch) >= limit or len(inbox) >= limit
        self._archived_upto = new_stream
        return int(appended), more

    def _archive_txn(
        self,
        txn: Txn,
        head: storage.Head,
        new_stream: int,
        batch: list[StreamEvent],
        inbox: list[Any],
        media: dict[str, list[dict[str, Any]]],
        burning: set[str],
        now: int,
    ) -> Archived:
        def build(txn: Txn) -> list[Draft]:
            return [self._draft_txn(txn, item, media, burning) for item in batch]

        appended, quarantined = storage.archive_txn(
            txn,
            head.stream_ordering,
            new_stream,
            build,
            [row[0] for row in inbox],
            storage.open_inbox(self._config.keys, inbox),
            self._config.current_key_id,
            self._config.current_key,
            self._config.keys,
            now,
        )
        return int(appended), quarantined

    def _burn_service(self) -> BurnPolicy | None:
        try:
            return registry.lookup(self._api, BURN_POLICY)
        except registry.ServiceMissingError:
            return None

    def _burn_content_kept(self) -> bool:
        """Burn-after-read content is archived only if modules.burn's audit_copy says
        so (issue 5); without modules.burn the marker means nothing and all is kept."""
        burn = self._burn_service()
        return True if burn is None else burn.keeps_audit_copy

    async def _burning(self, batch: list[StreamEvent]) -> set[str]:
        """The events of the batch modules.burn tracks: burn-after-read messages and
        everything relating to one (edits, replies, reactions: issue 14, B1), whose
        own content carries no marker. Empty when their content is kept anyway."""
        burn = self._burn_service()
        if burn is None or self._burn_content_kept():
            return set()
        return set(await burn.tracked_event_ids(_message_ids(batch)))

    def _draft_txn(
        self,
        txn: Txn,
        item: StreamEvent,
        media: dict[str, list[dict[str, Any]]],
        burning: set[str],
    ) -> Draft:
        # Room versions 3+ derive the event id from the hash; it is not in the JSON.
        event = {**item.event, "event_id": item.event_id}
        room_id = item.room_id
        ts = event.get("origin_server_ts")
        ts = ts if isinstance(ts, int) and not isinstance(ts, bool) else 0
        is_group = storage.room_state_txn(txn, room_id, events.GROUP_TYPE) is not None
        if "state_key" not in event:
            found = media.get(item.event_id, [])
            body = events.message_body(
                event, storage.joined_txn(txn, room_id), is_group, found
            )
            events.mark_cross_domain(body, self._api.server_name)
            burns = item.event_id in burning or events.is_burn_message(event)
            if burns and not self._burn_content_kept():
                return Draft("message", ts, events.without_burned_content(body))
            return Draft("message", ts, body, has_media=bool(found))
        event_type = str(event.get("type"))
        state_key = str(event.get("state_key"))
        previous = None
        if event_type in events.TRACKED_STATE:
            previous = storage.room_state_txn(txn, room_id, event_type)
        was_joined = False
        if event_type == "m.room.member":
            was_joined = state_key in storage.joined_txn(txn, room_id)
        body = events.group_body(event, previous, was_joined, is_group)
        events.mark_cross_domain(body, self._api.server_name)
        content = event.get("content")
        content = content if isinstance(content, dict) else {}
        if event_type == "m.room.member":
            joined = content.get("membership") == "join"
            storage.set_joined_txn(txn, room_id, state_key, joined)
        elif event_type in events.TRACKED_STATE and state_key == "":
            storage.set_room_state_txn(txn, room_id, event_type, content)
        return Draft("group", ts, body)

    async def _media_of(
        self, batch: list[StreamEvent]
    ) -> dict[str, list[dict[str, Any]]]:
        """event_id → media refs, with stored name/size and fingerprints for local
        media up to hash_max_bytes (read from Synapse's media store)."""
        found: dict[str, list[dict[str, Any]]] = {}
        server_name = self._api.server_name
        for item in batch:
            if "state_key" in item.event:
                continue
            refs = events.media_refs(item.event)
            for ref in refs:
                media_id = events.local_media_id(ref["mxc"], server_name)
                if media_id is not None:
                    await self._describe_local(ref, media_id)
            if refs:
                found[item.event_id] = refs
        return found

    async def _describe_local(self, ref: dict[str, Any], media_id: str) -> None:
        rows = await self._api.run_db_interaction(
            "jwwx_audit_media_rows", local_media_rows_txn, [media_id]
        )
        row = rows.get(media_id)
        if row is None:
            ref["stored"] = False
            return
        upload_name, length, media_type, _quarantined = row
        ref["stored"] = True
        ref["upload_name"] = upload_name
        ref["size"] = length if length is not None else ref.get("size")
        ref["mimetype"] = ref.get("mimetype") or media_type
        if length is None or length > self._config.hash_max_bytes:
            return
        try:
            data = await read_local_media(self._api, media_id)
        except Exception:
            # Gone from disk (deleted meanwhile): archived without fingerprint.
            logger.warning("audit: cannot read media %s for hashing", media_id)
            return
        print_ = await self._api.defer_to_thread(fingerprint, data)
        ref["sha256"] = print_.sha256
        if print_.phash is not None:
            ref["phash"] = print_.phash
