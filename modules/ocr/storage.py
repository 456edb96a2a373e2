# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.ocr: the grants of its former table (jwwx_ocr_apps), read once to be
moved into the open API's one table of app rights (modules/openapi/rights.py)."""

from typing import Any

from modules.common.storage import Txn


def legacy_grants_txn(txn: Txn) -> list[tuple[int, str, int]]:
    """(agentid, granted_by, granted_ts) of each grant still in jwwx_ocr_apps."""
    txn.execute("SELECT agentid, granted_by, granted_ts FROM jwwx_ocr_apps")
    return [(int(r[0]), str(r[1]), int(r[2])) for r in txn.fetchall()]


def forget_legacy_grants_txn(txn: Txn, agentids: list[Any]) -> None:
    txn.executemany(
        "DELETE FROM jwwx_ocr_apps WHERE agentid = ?", [(a,) for a in agentids]
    )
