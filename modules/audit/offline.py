# SPDX-License-Identifier: AGPL-3.0-or-later
"""The chain walk of the offline verifier (`python -m homeserver audit-verify`), on a
DB-API connection the launcher opened: the same report as GET /_jwwx/admin/v1/audit/verify.
"""

from typing import Any

from modules.audit import storage
from modules.audit.chain import ChainWalk
from modules.audit.config import AuditConfig
from modules.common.dbapi import run_in_transaction

PAGE = 1000


def verify_chain(
    connection: Any, engine: str, module_config: Any, from_seq: int
) -> dict[str, Any]:
    """Walk the chain from `from_seq` with the keys of modules.audit's `config:` mapping
    (as in homeserver.yaml); `engine` is "sqlite" or "postgres"."""
    config = AuditConfig.parse(module_config or {})
    head = run_in_transaction(connection, engine, storage.head_txn)
    walk = ChainWalk(config.keys, next_seq=from_seq)
    if from_seq > 1:
        before = run_in_transaction(
            connection, engine, storage.chain_page_txn, from_seq - 2, 1
        )
        if not before or before[0].seq != from_seq - 1:
            walk.broken = {"seq": from_seq - 1, "reason": "missing"}
            return walk.report(head.last_seq)
        walk.prev_hash = before[0].hash
    while True:
        rows = run_in_transaction(
            connection,
            engine,
            storage.chain_page_txn,
            walk.next_seq - 1,
            PAGE,
            head.last_seq,
        )
        if not all(walk.feed(row) for row in rows):
            return walk.report(head.last_seq)
        if len(rows) < PAGE:
            walk.finish(head.last_seq, head.last_hash)
            _now, beyond = run_in_transaction(
                connection, engine, storage.beyond_head_txn, 1000
            )
            walk.beyond_head(beyond)
            return walk.report(head.last_seq)
