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
    kind: str = "link"  # link | app | pubaccount | zone2_app (entries.KINDS)
    pubaccount_id: int | None = None
    # "<registration id>:<app id>" for an entry a bridge keeps (service.sync_bridged),
    # None for the admins' own.
    source: str | None = None

    def with_changes(self, **changes: Any) -> "Entry":
        return replace(self, **changes)


_COLUMNS = (
    "id, name, category, description, icon, url, agentid, zone, risk_prompt,"
    " visible_range, position, enabled, created_ts, updated_ts, kind, pubaccount_id,"
    " source"
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
        str(row[14]),
        None if row[15] is None else int(row[15]),
        row[16],
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
        entry.kind,
        entry.pubaccount_id,
        entry.source,
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
    """The entry and its usage."""
    txn.execute("DELETE FROM jwwx_workbench_usage WHERE entry_id = ?", (entry_id,))
    return delete_rows_txn(txn, "jwwx_workbench_entries", {"id": entry_id})


def record_use_txn(txn: Txn, entry_id: int, day: int, userid: str) -> None:
    """One open of the entry by this officer on this day (run serialized: a counter)."""
    txn.execute(
        "UPDATE jwwx_workbench_usage SET opens = opens + 1"
        " WHERE entry_id = ? AND day = ? AND userid = ?",
        (entry_id, day, userid),
    )
    if not txn.rowcount:
        txn.execute(
            "INSERT INTO jwwx_workbench_usage (entry_id, day, userid, opens)"
            " VALUES (?, ?, ?, 1)",
            (entry_id, day, userid),
        )


def usage_txn(
    txn: Txn, first_day: int, entry_id: int | None = None
) -> list[tuple[int, int, int, int]]:
    """(entry, day, opens, officers) from first_day on, of one entry or all."""
    sql = (
        "SELECT entry_id, day, SUM(opens), COUNT(*) FROM jwwx_workbench_usage"
        " WHERE day >= ?"
    )
    args: tuple[Any, ...] = (first_day,)
    if entry_id is not None:
        sql += " AND entry_id = ?"
        args = (first_day, entry_id)
    txn.execute(sql + " GROUP BY entry_id, day ORDER BY entry_id, day", args)
    return [(int(e), int(d), int(o), int(n)) for e, d, o, n in txn.fetchall()]


def officers_txn(txn: Txn, first_day: int, entry_ids: list[int]) -> dict[int, int]:
    """Distinct officers per entry from first_day on."""
    if not entry_ids:
        return {}
    marks = ",".join("?" * len(entry_ids))
    txn.execute(
        "SELECT entry_id, COUNT(DISTINCT userid) FROM jwwx_workbench_usage"
        f" WHERE day >= ? AND entry_id IN ({marks}) GROUP BY entry_id",  # noqa: S608
        (first_day, *entry_ids),
    )
    return {int(e): int(n) for e, n in txn.fetchall()}
