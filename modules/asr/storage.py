# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.asr: transcripts by event."""

from modules.common.storage import Txn


def get_txn(txn: Txn, event_ids: list[str]) -> dict[str, tuple[str, str]]:
    """{event_id: (room_id, text)} of those transcribed."""
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(event_ids), 200):
        chunk = event_ids[start : start + 200]
        marks = ",".join("?" * len(chunk))
        txn.execute(
            "SELECT event_id, room_id, text FROM jwwx_asr_transcripts"  # noqa: S608
            f" WHERE event_id IN ({marks})",
            tuple(chunk),
        )
        found.update({row[0]: (row[1], row[2]) for row in txn.fetchall()})
    return found


def put_txn(
    txn: Txn, event_id: str, room_id: str, text: str, engine: str, now: int
) -> None:
    txn.execute("DELETE FROM jwwx_asr_transcripts WHERE event_id = ?", (event_id,))
    txn.execute(
        "INSERT INTO jwwx_asr_transcripts (event_id, room_id, text, engine, created_ts)"
        " VALUES (?, ?, ?, ?, ?)",
        (event_id, room_id, text, engine, now),
    )
