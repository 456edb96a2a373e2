# SPDX-License-Identifier: AGPL-3.0-or-later
"""The callback queue (jwwx_openapi_callbacks): one queue per app, each row retried until
sent or a dead letter an admin may requeue (modules/openapi/callbacks.py)."""

from typing import Any

from modules.common.storage import Txn

DEAD_LETTER = "failed"


def enqueue_txn(
    txn: Txn, agentid: int, msgid: str, event_id: str, payload: str, now: int
) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_openapi_callbacks WHERE agentid = ? AND msgid = ?",
        (agentid, msgid),
    )
    if txn.fetchone() is not None:
        return False
    txn.execute(
        "INSERT INTO jwwx_openapi_callbacks (agentid, msgid, event_id, payload, state,"
        " attempts, next_attempt_ts, created_ts) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)",
        (agentid, msgid, event_id, payload, now, now),
    )
    return True


def due_apps_txn(txn: Txn, now: int) -> tuple[list[int], int | None]:
    """Apps that have a callback due, and when the next one not yet due is."""
    txn.execute(
        "SELECT DISTINCT agentid FROM jwwx_openapi_callbacks"
        " WHERE state = 'pending' AND next_attempt_ts <= ?",
        (now,),
    )
    apps = sorted(int(r[0]) for r in txn.fetchall())
    txn.execute(
        "SELECT MIN(next_attempt_ts) FROM jwwx_openapi_callbacks"
        " WHERE state = 'pending' AND next_attempt_ts > ?",
        (now,),
    )
    row = txn.fetchone()
    return apps, (int(row[0]) if row and row[0] is not None else None)


def due_txn(
    txn: Txn, agentid: int, now: int, limit: int
) -> list[tuple[int, str, str, int]]:
    txn.execute(
        "SELECT agentid, msgid, payload, attempts FROM jwwx_openapi_callbacks"
        " WHERE agentid = ? AND state = 'pending' AND next_attempt_ts <= ?"
        " ORDER BY next_attempt_ts, created_ts LIMIT ?",
        (agentid, now, limit),
    )
    return [(int(r[0]), r[1], r[2], int(r[3])) for r in txn.fetchall()]


def dead_letter_count_txn(txn: Txn) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_openapi_callbacks WHERE state = ?", (DEAD_LETTER,)
    )
    row = txn.fetchone()
    return int(row[0]) if row else 0


def list_callbacks_txn(
    txn: Txn, agentid: int, state: str, limit: int
) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT msgid, event_id, state, attempts, last_error, created_ts,"
        " next_attempt_ts, sent_ts FROM jwwx_openapi_callbacks"
        " WHERE agentid = ? AND state = ? ORDER BY created_ts DESC LIMIT ?",
        (agentid, state, limit),
    )
    return [
        {
            "msgid": r[0],
            "event_id": r[1],
            "state": r[2],
            "attempts": int(r[3]),
            "last_error": r[4],
            "created_ts": int(r[5]),
            "next_attempt_ts": int(r[6]) if r[2] == "pending" else None,
            "sent_ts": None if r[7] is None else int(r[7]),
        }
        for r in txn.fetchall()
    ]


def requeue_txn(txn: Txn, agentid: int, msgids: list[str] | None, now: int) -> int:
    """Dead letters of the app (all, or those in msgids) back to pending, attempts
    reset; how many."""
    sql = (
        "UPDATE jwwx_openapi_callbacks SET state = 'pending', attempts = 0,"
        " next_attempt_ts = ? WHERE agentid = ? AND state = ?"
    )
    if msgids is None:
        txn.execute(sql, (now, agentid, DEAD_LETTER))
        return int(txn.rowcount)
    count = 0
    for msgid in msgids:
        txn.execute(sql + " AND msgid = ?", (now, agentid, DEAD_LETTER, msgid))
        count += int(txn.rowcount)
    return count


def mark_txn(
    txn: Txn,
    agentid: int,
    msgid: str,
    state: str,
    attempts: int,
    next_ts: int,
    error: str | None,
    now: int,
) -> None:
    txn.execute(
        "UPDATE jwwx_openapi_callbacks SET state = ?, attempts = ?, next_attempt_ts = ?,"
        " last_error = ?, sent_ts = ? WHERE agentid = ? AND msgid = ?",
        (
            state,
            attempts,
            next_ts,
            error,
            now if state == "sent" else None,
            agentid,
            msgid,
        ),
    )


def callback_state_txn(txn: Txn, agentid: int) -> dict[str, int]:
    txn.execute(
        "SELECT state, COUNT(*) FROM jwwx_openapi_callbacks WHERE agentid = ?"
        " GROUP BY state",
        (agentid,),
    )
    return {row[0]: int(row[1]) for row in txn.fetchall()}
