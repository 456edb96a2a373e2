# SPDX-License-Identifier: AGPL-3.0-or-later
"""OAuth2 codes (jwwx_openapi_oauth_codes): single use, short-lived (oauth.py)."""

from modules.common.storage import Txn


def insert_code_txn(
    txn: Txn,
    code_hash: str,
    agentid: int | None,
    domain: str | None,
    userid: str,
    expires_ts: int,
) -> None:
    txn.execute(
        "INSERT INTO jwwx_openapi_oauth_codes (code_hash, agentid, domain, userid,"
        " expires_ts) VALUES (?, ?, ?, ?, ?)",
        (code_hash, agentid, domain, userid, expires_ts),
    )


def take_code_txn(txn: Txn, code_hash: str) -> tuple[int | None, str, str, int] | None:
    """(agentid, domain, userid, expires_ts) of the code, deleted as it is read."""
    txn.execute(
        "SELECT agentid, domain, userid, expires_ts FROM jwwx_openapi_oauth_codes"
        " WHERE code_hash = ?",
        (code_hash,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    txn.execute(
        "DELETE FROM jwwx_openapi_oauth_codes WHERE code_hash = ?", (code_hash,)
    )
    agentid = None if row[0] is None else int(row[0])
    return agentid, row[1], row[2], int(row[3])


def purge_codes_txn(txn: Txn, before: int) -> None:
    txn.execute("DELETE FROM jwwx_openapi_oauth_codes WHERE expires_ts < ?", (before,))
