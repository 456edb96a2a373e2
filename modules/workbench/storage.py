# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.workbench."""

import json
from dataclasses import dataclass, replace
from typing import Any

from modules.common.storage import Txn, delete_rows_txn


@dataclass(frozen=True)
class Entry:
    id: int
    name: str
    category: str
    description: str
    icon: str  # mxc:// URI or ""
    url: str
    agentid: int | None
    zone: str  # "internal" | "external"
    risk_prompt: str | None  # None: the configured default
    visible_range: dict[str, list[Any]] | None  # None: everyone
    position: int
    enabled: bool
    created_ts: int
    updated_ts: int

    def with_changes(self, **changes: Any) -> "Entry":
        return replace(self, **changes)


_COLUMNS = (
    "id, name, category, description, icon, url, agentid, zone, risk_prompt,"
    " visible_range, position, enabled, created_ts, updated_ts"
)


def _entry(row: Any) -> Entry:
    return Entry(
        int(row[0]),
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        None if row[6] is None else int(row[6]),
        row[7],
        row[8],
        None if row[9] is None else json.loads(row[9]),
        int(row[10]),
        bool(row[11]),
        int(row[12]),
        int(row[13]),
    )


def _values(entry: Entry) -> tuple[Any, ...]:
    return (
        entry.id,
        entry.name,
        entry.category,
        entry.description,
        entry.icon,
        entry.url,
        entry.agentid,
        entry.zone,
        entry.risk_prompt,
        None if entry.visible_range is None else json.dumps(entry.visible_range),
        entry.position,
        1 if entry.enabled else 0,
        entry.created_ts,
        entry.updated_ts,
    )


def list_txn(txn: Txn) -> list[Entry]:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_workbench_entries"  # noqa: S608
        " ORDER BY category, position, id"
    )
    return [_entry(row) for row in txn.fetchall()]


def get_txn(txn: Txn, entry_id: int) -> Entry | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_workbench_entries WHERE id = ?",  # noqa: S608
        (entry_id,),
    )
    row = txn.fetchone()
    return _entry(row) if row else None


def count_txn(txn: Txn) -> int:
    txn.execute("SELECT COUNT(*) FROM jwwx_workbench_entries")
    return int(txn.fetchone()[0])


def next_id_txn(txn: Txn) -> int:
    """Run inside the serialized write (two creations never get the same id)."""
    txn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_workbench_entries")
    return int(txn.fetchone()[0])


def insert_txn(txn: Txn, entry: Entry) -> None:
    marks = ", ".join("?" * len(_values(entry)))
    txn.execute(
        f"INSERT INTO jwwx_workbench_entries ({_COLUMNS}) VALUES ({marks})",  # noqa: S608
        _values(entry),
    )


def update_txn(txn: Txn, entry: Entry) -> None:
    names = [c.strip() for c in _COLUMNS.split(",")][1:]
    sets = ", ".join(f"{n} = ?" for n in names)
    txn.execute(
        f"UPDATE jwwx_workbench_entries SET {sets} WHERE id = ?",  # noqa: S608
        (*_values(entry)[1:], entry.id),
    )


def delete_txn(txn: Txn, entry_id: int) -> bool:
    return delete_rows_txn(txn, "jwwx_workbench_entries", {"id": entry_id})
