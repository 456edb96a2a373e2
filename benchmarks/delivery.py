# SPDX-License-Identifier: AGPL-3.0-or-later
"""Delivery bookkeeping: when each benchmark message was sent, when each recipient's
/sync saw it, and the correctness checks (exactly once, in order per room and sender,
nothing missing)."""

import re
import time
from dataclasses import dataclass, field
from typing import Any

MARK = "cn.jwwx.bench"  # content field carrying (key, seq) of a benchmark message
# The same in the text, for messages whose content we do not shape (open API pushes).
TAG = re.compile(r"\[bench (\S+) (\d+)\]")


def tag(key: str, seq: int) -> str:
    return f"[bench {key} {seq}]"


def _mark(content: dict[str, Any]) -> tuple[str, int] | None:
    mark = content.get(MARK)
    if isinstance(mark, dict):
        return str(mark.get("key")), int(mark.get("seq", -1))
    found = TAG.search(str(content.get("body", "")))
    return (found.group(1), int(found.group(2))) if found else None


@dataclass
class Tracker:
    sent_at: dict[str, float] = field(default_factory=dict)  # key -> send start
    # key -> recipients still expected to see it
    pending: dict[str, set[str]] = field(default_factory=dict)
    delivery: list[float] = field(default_factory=list)  # seconds, per recipient
    all_members: list[float] = field(default_factory=list)  # per key: last recipient
    duplicates: int = 0
    out_of_order: int = 0
    unexpected: int = 0
    # (recipient, room, sender) -> highest seq seen
    _last_seq: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _seen: set[tuple[str, str]] = field(default_factory=set)  # (recipient, key)

    def content(self, key: str, seq: int) -> dict[str, Any]:
        return {MARK: {"key": key, "seq": seq}}

    def sending(self, key: str, recipients: set[str]) -> None:
        """Call just before the send request: delivery is timed from here."""
        self.sent_at[key] = time.perf_counter()
        self.pending[key] = set(recipients)

    def failed(self, key: str) -> None:
        """The send was refused: nobody should expect it."""
        self.pending.pop(key, None)
        self.sent_at.pop(key, None)

    def seen(
        self, recipient: str, room_id: str, event: dict[str, Any], at: float
    ) -> None:
        """A recipient's /sync returned `event` at time `at`."""
        mark = _mark(event.get("content") or {})
        if mark is None or event.get("sender") == recipient:
            return
        key, seq = mark
        if (recipient, key) in self._seen:
            self.duplicates += 1
            return
        self._seen.add((recipient, key))
        stream = (recipient, room_id, str(event.get("sender")))
        if seq <= self._last_seq.get(stream, -1):
            self.out_of_order += 1
        self._last_seq[stream] = max(seq, self._last_seq.get(stream, -1))
        waiting = self.pending.get(key)
        if waiting is None or recipient not in waiting or key not in self.sent_at:
            self.unexpected += 1
            return
        waiting.discard(recipient)
        elapsed = at - self.sent_at[key]
        self.delivery.append(elapsed)
        if not waiting:
            self.all_members.append(elapsed)

    def missing(self) -> int:
        return sum(len(w) for w in self.pending.values())

    def outstanding(self) -> bool:
        return any(self.pending.values())

    def problems(self) -> dict[str, int]:
        found = {
            "missing": self.missing(),
            "duplicates": self.duplicates,
            "out of order": self.out_of_order,
            "unexpected": self.unexpected,
        }
        return {k: v for k, v in found.items() if v}
