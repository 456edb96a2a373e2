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
    # ON CONFLICT: an officer's request and automatic transcription may save the same
    # message at once (on PostgreSQL a delete-then-insert of both would collide).
    txn.execute(
        "INSERT INTO jwwx_asr_transcripts (event_id, room_id, text, engine, created_ts)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE"
        " SET room_id = excluded.room_id, text = excluded.text,"
        " engine = excluded.engine, created_ts = excluded.created_ts",
        (event_id, room_id, text, engine, now),
    )


# Automatic transcription: the stream cursor and the messages waiting for the engine.

CURSOR = "auto"


def cursor_txn(txn: Txn, start_at: int) -> int:
    """The stored position; the first time, `start_at` (messages sent from now on)."""
    txn.execute("SELECT stream_ordering FROM jwwx_asr_cursor WHERE name = ?", (CURSOR,))
    row = txn.fetchone()
    if row is not None:
        return int(row[0])
    txn.execute(
        "INSERT INTO jwwx_asr_cursor (name, stream_ordering) VALUES (?, ?)",
        (CURSOR, start_at),
    )
    return start_at


def queue_txn(
    txn: Txn, position: int, found: list[tuple[str, str, str, str]], now: int
) -> None:
    """Queue (event_id, room_id, media_id, mimetype) and move the cursor, together."""
    for event_id, room_id, media_id, mimetype in found:
        txn.execute("DELETE FROM jwwx_asr_pending WHERE event_id = ?", (event_id,))
        txn.execute(
            "INSERT INTO jwwx_asr_pending"
            " (event_id, room_id, media_id, mimetype, attempts, next_ts)"
            " VALUES (?, ?, ?, ?, 0, ?)",
            (event_id, room_id, media_id, mimetype, now),
        )
    txn.execute(
        "UPDATE jwwx_asr_cursor SET stream_ordering = ? WHERE name = ?",
        (position, CURSOR),
    )


def due_txn(
    txn: Txn, now: int, limit: int
) -> list[tuple[str, str, str, str, int, bool]]:
    """(event_id, room_id, media_id, mimetype, attempts, transcribed) due now, oldest
    first; `transcribed`: an officer's request made its transcript meanwhile."""
    txn.execute(
        "SELECT p.event_id, p.room_id, p.media_id, p.mimetype, p.attempts,"
        " t.event_id IS NOT NULL FROM jwwx_asr_pending p"
        " LEFT JOIN jwwx_asr_transcripts t ON t.event_id = p.event_id"
        " WHERE p.next_ts <= ? ORDER BY p.next_ts LIMIT ?",
        (now, limit),
    )
    return [(r[0], r[1], r[2], r[3], int(r[4]), bool(r[5])) for r in txn.fetchall()]


NEVER = 2**62  # a time after every next_ts: due_txn(NEVER, …) reads the oldest


def all_due_txn(txn: Txn, now: int) -> None:
    """Every waiting message due now (the engine answers again)."""
    txn.execute("UPDATE jwwx_asr_pending SET next_ts = ? WHERE next_ts > ?", (now, now))


def pending_count_txn(txn: Txn) -> int:
    txn.execute("SELECT COUNT(*) FROM jwwx_asr_pending")
    return int(txn.fetchone()[0])


def done_txn(txn: Txn, event_id: str) -> None:
    txn.execute("DELETE FROM jwwx_asr_pending WHERE event_id = ?", (event_id,))


def retry_txn(txn: Txn, event_id: str, attempts: int, next_ts: int) -> None:
    txn.execute(
        "UPDATE jwwx_asr_pending SET attempts = ?, next_ts = ? WHERE event_id = ?",
        (attempts, next_ts, event_id),
    )


# Open-API apps' results (/cgi-bin/media/voice/*), kept a short while.


def put_app_result_txn(
    txn: Txn, agentid: int, voice_id: str, text: str, now: int, expired_before: int
) -> None:
    """Keep the app's result (a voice_id used again replaces it) and delete what has
    expired, so that the table never grows past the results of one ttl."""
    txn.execute(
        "DELETE FROM jwwx_asr_app_results WHERE created_ts < ?", (expired_before,)
    )
    txn.execute(
        "DELETE FROM jwwx_asr_app_results WHERE agentid = ? AND voice_id = ?",
        (agentid, voice_id),
    )
    txn.execute(
        "INSERT INTO jwwx_asr_app_results (agentid, voice_id, text, created_ts)"
        " VALUES (?, ?, ?, ?)",
        (agentid, voice_id, text, now),
    )


def app_result_txn(
    txn: Txn, agentid: int, voice_id: str, expired_before: int
) -> str | None:
    txn.execute(
        "SELECT text FROM jwwx_asr_app_results"
        " WHERE agentid = ? AND voice_id = ? AND created_ts >= ?",
        (agentid, voice_id, expired_before),
    )
    row = txn.fetchone()
    return None if row is None else str(row[0])
