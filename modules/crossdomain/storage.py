# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.crossdomain: one policy row per peer domain."""

import json
from typing import Any

from modules.common.storage import Txn


def get_peer_txn(txn: Txn, domain: str) -> dict[str, Any] | None:
    txn.execute(
        "SELECT policy, updated_by, updated_ts FROM jwwx_crossdomain_peers"
        " WHERE domain = ?",
        (domain,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    return {"policy": json.loads(row[0]), "updated_by": row[1], "updated_ts": row[2]}


def list_peers_txn(txn: Txn) -> dict[str, dict[str, Any]]:
    txn.execute(
        "SELECT domain, policy, updated_by, updated_ts FROM jwwx_crossdomain_peers"
        " ORDER BY domain"
    )
    return {
        row[0]: {
            "policy": json.loads(row[1]),
            "updated_by": row[2],
            "updated_ts": row[3],
        }
        for row in txn.fetchall()
    }


def put_peer_txn(
    txn: Txn, domain: str, policy: dict[str, Any], by: str, now: int
) -> None:
    txn.execute(
        "INSERT INTO jwwx_crossdomain_peers (domain, policy, updated_by, updated_ts)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET"
        " policy = excluded.policy, updated_by = excluded.updated_by,"
        " updated_ts = excluded.updated_ts",
        (domain, json.dumps(policy, ensure_ascii=False, sort_keys=True), by, now),
    )


def delete_peer_txn(txn: Txn, domain: str) -> bool:
    txn.execute("DELETE FROM jwwx_crossdomain_peers WHERE domain = ?", (domain,))
    return bool(txn.rowcount)
