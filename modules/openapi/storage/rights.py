# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of the apps' rights (jwwx_openapi_app_rights): which app may use which capability."""

from modules.common.storage import Txn, delete_rows_txn


def granted_txn(txn: Txn, capability: str) -> list[int]:
    txn.execute(
        "SELECT agentid FROM jwwx_openapi_app_rights WHERE capability = ?"
        " ORDER BY agentid",
        (capability,),
    )
    return [int(row[0]) for row in txn.fetchall()]


def is_granted_txn(txn: Txn, agentid: int, capability: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_openapi_app_rights WHERE agentid = ? AND capability = ?",
        (agentid, capability),
    )
    return txn.fetchone() is not None


def grant_txn(txn: Txn, agentid: int, capability: str, admin: str, now: int) -> bool:
    """True when it was not granted before (a grant already there is kept as it is)."""
    txn.execute(
        "INSERT INTO jwwx_openapi_app_rights"
        " (agentid, capability, granted_by, granted_ts) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (agentid, capability) DO NOTHING",
        (agentid, capability, admin, now),
    )
    return txn.rowcount > 0


def revoke_txn(txn: Txn, agentid: int, capability: str) -> bool:
    return delete_rows_txn(
        txn, "jwwx_openapi_app_rights", {"agentid": agentid, "capability": capability}
    )
