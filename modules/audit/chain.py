# SPDX-License-Identifier: AGPL-3.0-or-later
"""Walking the hash chain: shared by the verify endpoint and the offline command."""

from collections.abc import Mapping
from typing import Any

from modules.audit.records import (
    GENESIS,
    HASH_FORMATS,
    RecordError,
    StoredRecord,
    chain_hash,
    expected_has_media,
    open_body,
)


class ChainWalk:
    """Feed rows in seq order; `broken` holds the first broken link once found."""

    def __init__(
        self, keys: Mapping[str, bytes], prev_hash: str = GENESIS, next_seq: int = 1
    ) -> None:
        self._keys = keys
        self.prev_hash = prev_hash
        self.next_seq = next_seq
        self.checked = 0
        self.broken: dict[str, Any] | None = None
        # Formats only move forward: a record of an older format after a newer one
        # is a downgrade (an attempt to take has_media out of the hash).
        self.hash_format = 1

    def feed(self, row: StoredRecord) -> bool:
        """Check one row; False once the chain is broken (stop feeding)."""
        if row.seq != self.next_seq:
            self.broken = {"seq": self.next_seq, "reason": "missing"}
            return False
        problem = self.problem(row, self.prev_hash)
        if problem is not None:
            self.broken = {"seq": row.seq, "reason": "modified"}
            if problem:
                self.broken["detail"] = problem
            return False
        self.prev_hash, self.next_seq = row.hash, row.seq + 1
        self.hash_format = row.hash_format
        self.checked += 1
        return True

    def problem(self, row: StoredRecord, prev_hash: str) -> str | None:
        """None when `row` is a valid successor of `prev_hash`, else what is wrong
        ("" when only the hash differs)."""
        if row.hash_format not in HASH_FORMATS:
            return f"unknown hash format {row.hash_format}"
        if row.hash_format < self.hash_format:
            return f"hash format {row.hash_format} after {self.hash_format}"
        try:
            body = open_body(self._keys, row.key_id, row.payload)
        except RecordError as e:
            return str(e)
        # Format 1 left has_media outside the hash: it must agree with the body.
        if row.has_media != expected_has_media(row.kind, body):
            return "has_media does not match the record"
        digest = chain_hash(
            prev_hash, row.seq, row.kind, row.ts, body, row.has_media, row.hash_format
        )
        return None if digest == row.hash else ""

    def finish(self, head_seq: int, head_hash: str) -> None:
        """At the end of the table: the head must be the last record walked."""
        if self.broken is None and (
            self.next_seq - 1 != head_seq or self.prev_hash != head_hash
        ):
            self.broken = {
                "seq": self.next_seq,
                "reason": "missing",
                "detail": "tail cut off",
            }

    def beyond_head(self, rows: list[StoredRecord]) -> None:
        """Rows past the head (the archiver never leaves any: it moves the head in the
        same transaction): foreign, whether or not they chain."""
        if self.broken is None and rows:
            self.broken = {
                "seq": rows[0].seq,
                "reason": "beyond_head",
                "detail": f"{len(rows)} record(s) after the chain head",
            }

    def report(self, head_seq: int) -> dict[str, Any]:
        report: dict[str, Any] = {
            "ok": self.broken is None,
            "checked": self.checked,
            "head_seq": head_seq,
        }
        if self.broken is not None:
            report["broken"] = self.broken
        return report
