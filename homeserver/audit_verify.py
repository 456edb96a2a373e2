# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver audit-verify`: the audit chain checked offline, with the server
running or stopped.

Reads the database and the audit keys named in DATA's homeserver.yaml (+ conf.d), walks
the chain like GET /_jwwx/admin/v1/audit/verify (modules.audit's verify_chain), prints
the JSON report and exits 0 when the chain is intact, 1 when it is broken, 2 on a
usage/config/database error.
"""

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from homeserver.config_file import load_server_config
from homeserver.errors import LauncherError
from modules.audit.public import verify_chain

AUDIT_MODULE = "modules.audit.AuditModule"


def connect_database(database: dict[str, Any]) -> tuple[Any, str]:
    """A DB-API connection to homeserver.yaml's database and its engine name."""
    args = dict(database.get("args") or {})
    if database.get("name") == "psycopg2":
        import psycopg2

        params = {k: v for k, v in args.items() if k not in ("cp_min", "cp_max")}
        return psycopg2.connect(**params), "postgres"
    return sqlite3.connect(str(args["database"])), "sqlite"


def _audit_config(raw: dict[str, Any]) -> Any:
    for entry in raw.get("modules") or []:
        if isinstance(entry, dict) and entry.get("module") == AUDIT_MODULE:
            return entry.get("config") or {}
    raise LauncherError(f"{AUDIT_MODULE} is not configured")


def verify(data_dir: Path, from_seq: int) -> dict[str, Any]:
    server = load_server_config(data_dir)
    module_config = _audit_config(server.raw)
    connection, engine = connect_database(server.raw["database"])
    try:
        return verify_chain(connection, engine, module_config, from_seq)
    finally:
        connection.close()


def audit_verify(data_dir: Path, from_seq: int) -> int:
    try:
        report = verify(data_dir, max(1, from_seq))
    except Exception as e:  # config, database or key problems: told to the operator
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1
