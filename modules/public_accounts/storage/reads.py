# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who opened which article, and for how long (jwwx_pubacct_reads); the page-report
signing key (jwwx_pubacct_keys)."""

from typing import Any

from modules.common.storage import Txn


def record_open_txn(txn: Txn, article_id: int, userid: str, now: int) -> bool:
    """Count one open; True when it is this officer's first."""
    txn.execute(
        "UPDATE jwwx_pubacct_reads SET opens = opens + 1, last_ts = ?"
        " WHERE article_id = ? AND userid = ?",
        (now, article_id, userid),
    )
    if txn.rowcount:
        return False
    txn.execute(
        "INSERT INTO jwwx_pubacct_reads"
        " (article_id, userid, first_ts, last_ts, opens, read_ms)"
        " VALUES (?, ?, ?, ?, 1, 0)",
        (article_id, userid, now, now),
    )
    return True


def record_opens_txn(txn: Txn, opens: list[tuple[int, str, int]]) -> None:
    """Count many opens (article, userid, when) in one transaction, in their order."""
    for article_id, userid, now in opens:
        record_open_txn(txn, article_id, userid, now)


def add_read_time_txn(txn: Txn, article_id: int, userid: str, ms: int) -> None:
    txn.execute(
        "UPDATE jwwx_pubacct_reads SET read_ms = read_ms + ?"
        " WHERE article_id = ? AND userid = ?",
        (ms, article_id, userid),
    )


def reads_txn(txn: Txn, article_ids: list[int]) -> list[tuple[int, str, int, int, int]]:
    """(article, userid, first_ts, opens, read_ms) of these articles."""
    if not article_ids:
        return []
    marks = ",".join("?" * len(article_ids))
    txn.execute(
        "SELECT article_id, userid, first_ts, opens, read_ms FROM jwwx_pubacct_reads"
        f" WHERE article_id IN ({marks}) ORDER BY article_id, userid",
        tuple(article_ids),
    )
    rows: list[Any] = txn.fetchall()
    return [(int(a), str(u), int(f), int(o), int(m)) for a, u, f, o, m in rows]


def key_txn(txn: Txn, name: str, candidate: str) -> str:
    """The stored secret `name`, storing `candidate` the first time."""
    txn.execute(
        "INSERT INTO jwwx_pubacct_keys (name, secret) VALUES (?, ?)"
        " ON CONFLICT (name) DO NOTHING",
        (name, candidate),
    )
    txn.execute("SELECT secret FROM jwwx_pubacct_keys WHERE name = ?", (name,))
    return str(txn.fetchone()[0])
