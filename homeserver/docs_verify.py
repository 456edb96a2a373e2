# SPDX-License-Identifier: AGPL-3.0-or-later
"""`python -m homeserver docs-verify --data-dir DATA [DOC_ID ...]`: the documents'
revision chains (modules.docs) checked offline, with the server running or stopped.

Reads the database and the document keys named in DATA's homeserver.yaml (+ conf.d),
checks each document like GET /_jwwx/admin/v1/docs/{doc_id}/verify, prints the JSON
report and exits 0 when every chain is intact, 1 when one is not, 2 on a
usage/config/database error.
"""

import json
import sys
from pathlib import Path
from typing import Any

from homeserver.audit_verify import connect_database
from homeserver.config_file import load_server_config
from homeserver.errors import LauncherError
from modules.docs.public import verify_documents

DOCS_MODULE = "modules.docs.DocsModule"


def _docs_config(raw: dict[str, Any]) -> Any:
    for entry in raw.get("modules") or []:
        if isinstance(entry, dict) and entry.get("module") == DOCS_MODULE:
            return entry.get("config") or {}
    raise LauncherError(f"{DOCS_MODULE} is not configured")


def verify(data_dir: Path, doc_ids: list[str]) -> dict[str, Any]:
    server = load_server_config(data_dir)
    config = _docs_config(server.raw)
    connection, engine = connect_database(server.raw["database"])
    try:
        return verify_documents(connection, engine, config, doc_ids)
    finally:
        connection.close()


def docs_verify(data_dir: Path, doc_ids: list[str]) -> int:
    try:
        report = verify(data_dir, doc_ids)
    except Exception as e:  # config, database or key problems: told to the operator
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1
