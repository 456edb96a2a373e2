# SPDX-License-Identifier: AGPL-3.0-or-later
"""Walking the hash chain: shared by the verify endpoint and the offline command."""

from collections.abc import Mapping
from typing import Any

from modules.audit.records import (
    GENESIS,
    RecordError,
    StoredRecord,
    chain_hash,
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

    def feed(self, row: StoredRecord) -> bool:
        """Check one row; False once the chain is broken (stop feeding)."""
        if row.seq != self.next_seq:
            self.broken = {"seq": self.next_seq, "reason": "missing"}
            return False
        try:
            body = open_body(self._keys, row.key_id, row.payload)
        except RecordError as e:
            self.broken = {"seq": row.seq, "reason": "modified", "detail": str(e)}
            return False
        if chain_hash(self.prev_hash, row.seq, row.kind, row.ts, body) != row.hash:
            self.broken = {"seq": row.seq, "reason": "modified"}
            return False
        self.prev_hash, self.next_seq = row.hash, row.seq + 1
        self.checked += 1
        return True

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

    def report(self, head_seq: int) -> dict[str, Any]:
        report: dict[str, Any] = {
            "ok": self.broken is None,
            "checked": self.checked,
            "head_seq": head_seq,
        }
        if self.broken is not None:
            report["broken"] = self.broken
        return report
