# SPDX-License-Identifier: AGPL-3.0-or-later
"""What other packages may use of modules.docs (its declared surface): the offline
verifier of the documents' revision chains (`python -m homeserver docs-verify`)."""

from collections.abc import Mapping
from typing import Any

from modules.common.dbapi import run_in_transaction
from modules.docs.config import DocsConfig
from modules.docs.storage import document_ids_txn
from modules.docs.verify import verify_document_txn

__all__ = ["verify_documents"]


def verify_documents(
    connection: Any, engine: str, module_config: Mapping[str, Any], doc_ids: list[str]
) -> dict[str, Any]:
    """{"ok", "documents": [one report per document]}; every document when doc_ids is
    empty (deleted ones too: their revisions are kept)."""
    keys = DocsConfig.parse(module_config).keys
    wanted = doc_ids or run_in_transaction(connection, engine, document_ids_txn)
    reports = [
        run_in_transaction(connection, engine, verify_document_txn, doc_id, keys)
        for doc_id in wanted
    ]
    return {"ok": all(r["ok"] for r in reports), "documents": reports}
