# SPDX-License-Identifier: AGPL-3.0-or-later
"""Who opened which article, and for how long (jwwx_pubacct_reads); the page-report
signing key (jwwx_pubacct_keys)."""

from typing import Any

from modules.common.storage import Txn


def record_opens_txn(txn: Txn, opens: list[tuple[int, str, int]]) -> None:
    """Count many opens (article, userid, when) in one transaction: one statement or
    two per officer and article, however often they opened it (a batch of half a
    second held twenty opens of each of fifty readers in the benchmark: a thousand
    statements whose Python ran on the database thread beside the pages' reactor)."""
    seen: dict[tuple[int, str], tuple[int, int, int]] = {}  # → (opens, first, last)
    for article_id, userid, now in opens:
        count, first, last = seen.get((article_id, userid), (0, now, now))
        seen[article_id, userid] = (count + 1, min(first, now), max(last, now))
    for (article_id, userid), (count, first, last) in sorted(seen.items()):
        txn.execute(
            "UPDATE jwwx_pubacct_reads SET opens = opens + ?, last_ts = ?"
            " WHERE article_id = ? AND userid = ?",
            (count, last, article_id, userid),
        )
        if not txn.rowcount:
            txn.execute(
                "INSERT INTO jwwx_pubacct_reads"
                " (article_id, userid, first_ts, last_ts, opens, read_ms)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                (article_id, userid, first, last, count),
            )


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
