# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading the archive: chain verification and the audit searches.

Searches decrypt and scan the records of one kind in a time range (ts is in clear and
indexed; the bodies are SM4-sealed, so there is no plaintext index to leak). One search
decrypts at most `search_max_records` records (SM4 through OpenSSL plus JSON parsing:
about 10,000 message records a second on one core); a longer range answers
`complete: false` with `next_seq`, and the caller continues or narrows the range.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synapse.module_api import ModuleApi

from modules.audit import storage
from modules.audit.chain import ChainWalk
from modules.audit.config import AuditConfig
from modules.audit.events import local_media_id, walk_strings
from modules.audit.media import hamming, perceptual_hash
from modules.audit.records import GENESIS, Record, open_record
from modules.common.synapse.tables import local_media_rows_txn, redacted_event_ids_txn

PAGE = 500


@dataclass
class ScanResult:
    hits: list[dict[str, Any]] = field(default_factory=list)
    scanned: int = 0
    complete: bool = True
    next_seq: int | None = None


class ArchiveReader:
    def __init__(self, api: ModuleApi, config: AuditConfig) -> None:
        self._api = api
        self._config = config

    # Verification.

    async def verify(self, from_seq: int = 1, max_records: int = 0) -> dict[str, Any]:
        """Walk the chain from `from_seq` (anchored on the stored hash before it) for
        at most `max_records` (0: to the end); report the first broken link: a modified
        record (hash or seal does not match), a missing one (a gap in seq), or a
        cut-off tail. A partial walk answers `next_seq` to continue from."""
        head = await self._api.run_db_interaction("jwwx_audit_head", storage.head_txn)
        walk = ChainWalk(self._config.keys, GENESIS, from_seq)
        if from_seq > 1:
            before = await self._api.run_db_interaction(
                "jwwx_audit_verify_anchor", storage.chain_page_txn, from_seq - 2, 1
            )
            if not before or before[0].seq != from_seq - 1:
                walk.broken = {"seq": from_seq - 1, "reason": "missing"}
                return walk.report(head.last_seq)
            walk.prev_hash = before[0].hash
        while True:
            if max_records and walk.checked >= max_records:
                return {**walk.report(head.last_seq), "next_seq": walk.next_seq}
            page = PAGE if not max_records else min(PAGE, max_records - walk.checked)
            rows = await self._api.run_db_interaction(
                "jwwx_audit_verify_page",
                storage.chain_page_txn,
                walk.next_seq - 1,
                page,
                head.last_seq,
            )
            for row in rows:
                if not walk.feed(row):
                    return walk.report(head.last_seq)
            if len(rows) < page:
                break
        walk.finish(head.last_seq, head.last_hash)
        # Rows past the head as it is now (read with it): the archiver never leaves
        # any, so they are foreign even if they chain (a rewound head).
        _now, beyond = await self._api.run_db_interaction(
            "jwwx_audit_verify_beyond", storage.beyond_head_txn, 1000
        )
        walk.beyond_head(beyond)
        report = walk.report(head.last_seq)
        quarantined = await self._api.run_db_interaction(
            "jwwx_audit_verify_quarantine", storage.unreviewed_quarantine_txn
        )
        if quarantined:
            report["quarantined"] = quarantined
        return report

    # Scanning.

    async def scan(
        self,
        kind: str,
        from_ts: int,
        to_ts: int,
        after_seq: int,
        limit: int,
        media_only: bool,
        match: Callable[[Record], dict[str, Any] | None],
    ) -> ScanResult:
        result = ScanResult()
        cursor = after_seq
        while True:
            rows = await self._api.run_db_interaction(
                "jwwx_audit_scan",
                storage.records_in_range_txn,
                kind,
                from_ts,
                to_ts,
                cursor,
                PAGE,
                media_only,
            )
            for row in rows:
                if result.scanned >= self._config.search_max_records:
                    result.complete, result.next_seq = False, cursor
                    return result
                cursor = row.seq
                result.scanned += 1
                hit = match(open_record(self._config.keys, row))
                if hit is not None:
                    result.hits.append(hit)
                    if len(result.hits) >= limit:
                        result.complete, result.next_seq = False, cursor
                        return result
            if len(rows) < PAGE:
                return result

    async def messages(
        self, keyword: str, from_ts: int, to_ts: int, after_seq: int, limit: int
    ) -> ScanResult:
        needle = keyword.casefold()

        def match(record: Record) -> dict[str, Any] | None:
            content = record.body.get("content")
            if not any(needle in s.casefold() for s in walk_strings(content)):
                return None
            return _message_hit(record)

        return await self.scan(
            "message", from_ts, to_ts, after_seq, limit, False, match
        )

    async def files(
        self, name: str, from_ts: int, to_ts: int, after_seq: int, limit: int
    ) -> ScanResult:
        needle = name.casefold()

        def match(record: Record) -> dict[str, Any] | None:
            media = [
                m
                for m in record.body.get("media", [])
                if needle in str(m.get("name") or "").casefold()
                or needle in str(m.get("upload_name") or "").casefold()
            ]
            if not media:
                return None
            return {**_message_hit(record), "files": media}

        result = await self.scan(
            "message", from_ts, to_ts, after_seq, limit, True, match
        )
        await self._add_status(result.hits)
        return result

    async def media(
        self, data: bytes, from_ts: int, to_ts: int, after_seq: int, limit: int
    ) -> tuple[ScanResult, dict[str, Any]]:
        sha256 = hashlib.sha256(data).hexdigest()
        phash = await self._api.defer_to_thread(perceptual_hash, data)
        distance = self._config.phash_max_distance

        def match(record: Record) -> dict[str, Any] | None:
            found = []
            for item in record.body.get("media", []):
                if item.get("sha256") == sha256:
                    found.append({**item, "match": "exact", "distance": 0})
                elif phash and item.get("phash"):
                    apart = hamming(phash, item["phash"])
                    if apart <= distance:
                        found.append({**item, "match": "similar", "distance": apart})
            if not found:
                return None
            return {**_message_hit(record), "files": found}

        result = await self.scan(
            "message", from_ts, to_ts, after_seq, limit, True, match
        )
        await self._add_status(result.hits)
        return result, {"sha256": sha256, "phash": phash}

    async def _add_status(self, hits: list[dict[str, Any]]) -> None:
        """present / redacted (a redaction targets the message) / expired (the media
        is gone from the store: retention, burn, admin deletion, quarantine)."""
        event_ids = [h["event_id"] for h in hits if h.get("event_id")]
        redacted = await self._api.run_db_interaction(
            "jwwx_audit_redacted", redacted_event_ids_txn, event_ids
        )
        server_name = self._api.server_name
        for hit in hits:
            for item in hit["files"]:
                media_id = local_media_id(str(item.get("mxc")), server_name)
                if hit.get("event_id") in redacted:
                    item["status"] = "redacted"
                elif media_id is None:
                    item["status"] = "remote"
                else:
                    rows = await self._api.run_db_interaction(
                        "jwwx_audit_media_status", local_media_rows_txn, [media_id]
                    )
                    row = rows.get(media_id)
                    gone = row is None or row[3]
                    item["status"] = "expired" if gone else "present"
            statuses = {item["status"] for item in hit["files"]}
            hit["status"] = statuses.pop() if len(statuses) == 1 else "mixed"


def _message_hit(record: Record) -> dict[str, Any]:
    body = record.body
    return {
        "seq": record.seq,
        "ts": record.ts,
        "event_id": body.get("event_id"),
        "room_id": body.get("room_id"),
        "sender": body.get("sender"),
        "recipients": body.get("recipients", []),
        "is_group": body.get("is_group"),
        "type": body.get("type"),
        "content": body.get("content"),
    }
