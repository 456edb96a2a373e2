# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.ocr: which open-API apps may use OCR."""

from modules.common.storage import Txn, delete_rows_txn


def granted_txn(txn: Txn) -> list[int]:
    txn.execute("SELECT agentid FROM jwwx_ocr_apps ORDER BY agentid")
    return [int(row[0]) for row in txn.fetchall()]


def is_granted_txn(txn: Txn, agentid: int) -> bool:
    txn.execute("SELECT 1 FROM jwwx_ocr_apps WHERE agentid = ?", (agentid,))
    return txn.fetchone() is not None


def grant_txn(txn: Txn, agentid: int, admin: str, now: int) -> bool:
    """True when it was not granted before."""
    if is_granted_txn(txn, agentid):
        return False
    txn.execute(
        "INSERT INTO jwwx_ocr_apps (agentid, granted_by, granted_ts) VALUES (?, ?, ?)",
        (agentid, admin, now),
    )
    return True


def revoke_txn(txn: Txn, agentid: int) -> bool:
    return delete_rows_txn(txn, "jwwx_ocr_apps", {"agentid": agentid})
