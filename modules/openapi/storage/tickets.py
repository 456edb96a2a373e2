# SPDX-License-Identifier: AGPL-3.0-or-later
"""JS-SDK tickets (jwwx_openapi_tickets)."""

import secrets

from modules.common.storage import Txn


def current_ticket_txn(
    txn: Txn, agentid: int, now: int, valid_after: int, ttl_ms: int
) -> tuple[str, int]:
    """(ticket, expires_ts): the newest one with enough life left, or a new one."""
    txn.execute(
        "SELECT ticket, expires_ts FROM jwwx_openapi_tickets WHERE agentid = ?"
        " AND expires_ts > ? ORDER BY expires_ts DESC LIMIT 1",
        (agentid, valid_after),
    )
    row = txn.fetchone()
    if row is not None:
        return row[0], int(row[1])
    ticket = secrets.token_urlsafe(48)
    txn.execute(
        "INSERT INTO jwwx_openapi_tickets (ticket, agentid, issued_ts, expires_ts)"
        " VALUES (?, ?, ?, ?)",
        (ticket, agentid, now, now + ttl_ms),
    )
    return ticket, now + ttl_ms


def valid_tickets_txn(txn: Txn, agentid: int, now: int) -> list[str]:
    txn.execute(
        "SELECT ticket FROM jwwx_openapi_tickets WHERE agentid = ? AND expires_ts > ?",
        (agentid, now),
    )
    return [row[0] for row in txn.fetchall()]


def purge_tickets_txn(txn: Txn, before: int) -> None:
    txn.execute("DELETE FROM jwwx_openapi_tickets WHERE expires_ts < ?", (before,))
