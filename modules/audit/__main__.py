# SPDX-License-Identifier: AGPL-3.0-or-later
"""Offline chain verification, with the server running or stopped:

    python -m modules.audit verify --data-dir DATA [--from-seq N]

Reads the database and the audit keys named in DATA's homeserver.yaml (+ conf.d),
walks the chain like GET /_jwwx/admin/v1/audit/verify, prints the JSON report and
exits 0 when the chain is intact, 1 when it is broken, 2 on a usage/config error.
"""

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from homeserver.config_file import load_server_config
from homeserver.errors import LauncherError
from modules.audit import storage
from modules.audit.chain import ChainWalk
from modules.audit.config import AuditConfig
from modules.common.dbapi import run_in_transaction

PAGE = 1000


def _connect(database: dict[str, Any]) -> tuple[Any, str]:
    args = dict(database.get("args") or {})
    if database.get("name") == "psycopg2":
        import psycopg2

        params = {k: v for k, v in args.items() if k not in ("cp_min", "cp_max")}
        return psycopg2.connect(**params), "postgres"
    return sqlite3.connect(str(args["database"])), "sqlite"


def _audit_config(raw: dict[str, Any]) -> AuditConfig:
    for entry in raw.get("modules") or []:
        if (
            isinstance(entry, dict)
            and entry.get("module") == "modules.audit.AuditModule"
        ):
            return AuditConfig.parse(entry.get("config") or {})
    raise LauncherError("modules.audit.AuditModule is not configured")


def verify(data_dir: Path, from_seq: int) -> dict[str, Any]:
    server = load_server_config(data_dir)
    config = _audit_config(server.raw)
    connection, engine = _connect(server.raw["database"])
    try:
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
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modules.audit")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="verify the audit hash chain")
    check.add_argument("--data-dir", type=Path, required=True)
    check.add_argument("--from-seq", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        report = verify(args.data_dir, max(1, args.from_seq))
    except Exception as e:  # config, database or key problems: told to the operator
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
