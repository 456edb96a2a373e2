# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.policy: the admin-edited keyword list and its version counter."""

from typing import Any

from modules.common.storage import Txn


def get_keyword_version_txn(txn: Txn) -> tuple[int, str | None, int | None]:
    txn.execute(
        "SELECT version, updated_by, updated_ts FROM jwwx_policy_keyword_version"
        " WHERE singleton = 'X'"
    )
    row = txn.fetchall()[0]
    return int(row[0]), row[1], row[2]


def get_keywords_txn(txn: Txn) -> tuple[int, list[str]]:
    version, _by, _ts = get_keyword_version_txn(txn)
    txn.execute("SELECT keyword FROM jwwx_policy_keywords ORDER BY keyword")
    return version, [row[0] for row in txn.fetchall()]


def replace_keywords_txn(txn: Txn, keywords: list[str], admin: str, now_ms: int) -> int:
    """Replace the whole list in one transaction; return the new version."""
    txn.execute("DELETE FROM jwwx_policy_keywords")
    rows: list[Any] = [(k, admin, now_ms) for k in keywords]
    if rows:
        txn.executemany(
            "INSERT INTO jwwx_policy_keywords (keyword, added_by, added_ts) VALUES (?, ?, ?)",
            rows,
        )
    txn.execute(
        "UPDATE jwwx_policy_keyword_version SET version = version + 1,"
        " updated_by = ?, updated_ts = ? WHERE singleton = 'X'",
        (admin, now_ms),
    )
    version, _by, _ts = get_keyword_version_txn(txn)
    return version
