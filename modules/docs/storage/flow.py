# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.docs' workflow (schema/0002_docflow.sql): tasks and their assignees,
admins' templates, the docs bot's rooms, unit quotas and usage."""

import json
from dataclasses import dataclass, field
from typing import Any

from modules.common.storage import Txn

TOTAL = 0  # the quota row of the whole bureau


@dataclass
class Task:
    doc_id: str
    task_id: str
    title: str
    due: str | None
    steps: list[dict[str, Any]]  # {title, assignee, done_by, done_ts}
    current: int
    status: str  # open | done | removed
    created_by: str
    created_ts: int
    updated_ts: int
    doc_title: str = field(default="")

    def assignee(self) -> str | None:
        if self.status != "open" or self.current >= len(self.steps):
            return None
        return str(self.steps[self.current]["assignee"])

    def as_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "doc_title": self.doc_title,
            "task_id": self.task_id,
            "title": self.title,
            "due": self.due,
            "steps": self.steps,
            "current_step": self.current,
            "current_assignee": self.assignee(),
            "status": self.status,
            "created_by": self.created_by,
            "created_ts": self.created_ts,
            "updated_ts": self.updated_ts,
        }


_TASK = (
    "t.doc_id, t.task_id, t.title, t.due, t.steps, t.current_step, t.status,"
    " t.created_by, t.created_ts, t.updated_ts, d.title"
)


def _task(row: Any) -> Task:
    return Task(
        row[0],
        row[1],
        row[2],
        row[3],
        json.loads(row[4]),
        int(row[5]),
        row[6],
        row[7],
        int(row[8]),
        int(row[9]),
        row[10] or "",
    )


def doc_tasks_txn(txn: Txn, doc_id: str) -> list[Task]:
    txn.execute(
        f"SELECT {_TASK} FROM jwwx_docs_tasks t"
        " JOIN jwwx_docs_documents d ON d.doc_id = t.doc_id"
        " WHERE t.doc_id = ? ORDER BY t.created_ts, t.task_id",
        (doc_id,),
    )
    return [_task(r) for r in txn.fetchall()]


def get_task_txn(txn: Txn, doc_id: str, task_id: str) -> Task | None:
    txn.execute(
        f"SELECT {_TASK} FROM jwwx_docs_tasks t"
        " JOIN jwwx_docs_documents d ON d.doc_id = t.doc_id"
        " WHERE t.doc_id = ? AND t.task_id = ?",
        (doc_id, task_id),
    )
    row = txn.fetchone()
    return _task(row) if row else None


def save_task_txn(txn: Txn, task: Task, new: bool) -> None:
    values = (
        task.title,
        task.due,
        json.dumps(task.steps, ensure_ascii=False),
        task.current,
        task.assignee(),
        task.status,
        task.updated_ts,
    )
    if new:
        txn.execute(
            "INSERT INTO jwwx_docs_tasks (title, due, steps, current_step,"
            " current_assignee, status, updated_ts, doc_id, task_id, created_by,"
            " created_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, task.doc_id, task.task_id, task.created_by, task.created_ts),
        )
    else:
        txn.execute(
            "UPDATE jwwx_docs_tasks SET title = ?, due = ?, steps = ?,"
            " current_step = ?, current_assignee = ?, status = ?, updated_ts = ?"
            " WHERE doc_id = ? AND task_id = ?",
            (*values, task.doc_id, task.task_id),
        )
    txn.execute(
        "DELETE FROM jwwx_docs_task_assignees WHERE doc_id = ? AND task_id = ?",
        (task.doc_id, task.task_id),
    )
    if task.status != "removed":
        txn.executemany(
            "INSERT INTO jwwx_docs_task_assignees (doc_id, task_id, user_id)"
            " VALUES (?, ?, ?)",
            [
                (task.doc_id, task.task_id, a)
                for a in sorted({str(s["assignee"]) for s in task.steps})
            ],
        )


def officer_tasks_txn(txn: Txn, user_id: str, status: str, limit: int) -> list[Task]:
    """An officer's tasks, newest first, of documents not deleted: `open` those
    whose open step is his (待办), `done` the finished ones he had a step in, `all`
    every one he has a step in."""
    if status == "open":
        txn.execute(
            f"SELECT {_TASK} FROM jwwx_docs_tasks t"
            " JOIN jwwx_docs_documents d ON d.doc_id = t.doc_id"
            " WHERE t.current_assignee = ? AND t.status = 'open'"
            " AND d.deleted_ts IS NULL"
            " ORDER BY t.updated_ts DESC, t.doc_id, t.task_id LIMIT ?",
            (user_id, limit),
        )
        return [_task(r) for r in txn.fetchall()]
    where = " AND t.status = 'done'" if status == "done" else ""
    txn.execute(
        f"SELECT {_TASK} FROM jwwx_docs_task_assignees a"
        " JOIN jwwx_docs_tasks t ON t.doc_id = a.doc_id AND t.task_id = a.task_id"
        " JOIN jwwx_docs_documents d ON d.doc_id = t.doc_id"
        f" WHERE a.user_id = ? AND d.deleted_ts IS NULL{where}"
        " ORDER BY t.updated_ts DESC, t.doc_id, t.task_id LIMIT ?",
        (user_id, limit),
    )
    return [_task(r) for r in txn.fetchall()]


# Templates added by admins.


def add_template_txn(
    txn: Txn,
    template_id: str,
    name: str,
    kind: str,
    key_id: str,
    body: str,
    user_id: str,
    now: int,
) -> None:
    txn.execute(
        "INSERT INTO jwwx_docs_templates (template_id, name, kind, key_id, body,"
        " created_by, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (template_id, name, kind, key_id, body, user_id, now),
    )


def templates_txn(txn: Txn) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT template_id, name, kind, created_by, created_ts"
        " FROM jwwx_docs_templates ORDER BY created_ts, template_id"
    )
    return [
        {
            "id": r[0],
            "name": r[1],
            "kind": r[2],
            "created_by": r[3],
            "created_ts": int(r[4]),
        }
        for r in txn.fetchall()
    ]


def template_body_txn(txn: Txn, template_id: str) -> tuple[str, str, str, str] | None:
    """(name, kind, key_id, sealed body)."""
    txn.execute(
        "SELECT name, kind, key_id, body FROM jwwx_docs_templates"
        " WHERE template_id = ?",
        (template_id,),
    )
    row = txn.fetchone()
    return (row[0], row[1], row[2], row[3]) if row else None


def delete_template_txn(txn: Txn, template_id: str) -> bool:
    txn.execute("DELETE FROM jwwx_docs_templates WHERE template_id = ?", (template_id,))
    return bool(txn.rowcount)


# The bot's rooms.


def bot_room_txn(txn: Txn, user_id: str) -> str | None:
    txn.execute("SELECT room_id FROM jwwx_docs_bot_rooms WHERE user_id = ?", (user_id,))
    row = txn.fetchone()
    return str(row[0]) if row else None


def claim_bot_room_txn(txn: Txn, user_id: str, room_id: str) -> str:
    """Keep `room_id` as the officer's room unless one is kept already (returned)."""
    found = bot_room_txn(txn, user_id)
    if found is not None:
        return found
    txn.execute(
        "INSERT INTO jwwx_docs_bot_rooms (user_id, room_id) VALUES (?, ?)",
        (user_id, room_id),
    )
    return room_id


# Units: quotas and usage.


def quotas_txn(txn: Txn) -> dict[int, tuple[int | None, int | None]]:
    """unit id (TOTAL: the bureau) → (max documents, max bytes)."""
    txn.execute("SELECT unit_id, max_documents, max_bytes FROM jwwx_docs_quotas")
    return {
        int(r[0]): (
            None if r[1] is None else int(r[1]),
            None if r[2] is None else int(r[2]),
        )
        for r in txn.fetchall()
    }


def set_quota_txn(
    txn: Txn,
    unit_id: int,
    documents: int | None,
    size: int | None,
    user_id: str,
    now: int,
) -> None:
    txn.execute("DELETE FROM jwwx_docs_quotas WHERE unit_id = ?", (unit_id,))
    if documents is not None or size is not None:
        txn.execute(
            "INSERT INTO jwwx_docs_quotas (unit_id, max_documents, max_bytes,"
            " updated_by, updated_ts) VALUES (?, ?, ?, ?, ?)",
            (unit_id, documents, size, user_id, now),
        )


def usage_txn(txn: Txn, unit_id: int | None) -> tuple[int, int]:
    """(documents, bytes) of a unit (None: the whole bureau), deleted ones excluded."""
    if unit_id is None:
        txn.execute(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM jwwx_docs_documents"
            " WHERE deleted_ts IS NULL"
        )
    else:
        txn.execute(
            "SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM jwwx_docs_documents"
            " WHERE deleted_ts IS NULL AND unit_id = ?",
            (unit_id,),
        )
    row = txn.fetchone()
    return int(row[0]), int(row[1])


def usage_by_unit_txn(txn: Txn) -> dict[int, tuple[int, int]]:
    txn.execute(
        "SELECT unit_id, COUNT(*), COALESCE(SUM(bytes), 0) FROM jwwx_docs_documents"
        " WHERE deleted_ts IS NULL AND unit_id IS NOT NULL GROUP BY unit_id"
    )
    return {int(r[0]): (int(r[1]), int(r[2])) for r in txn.fetchall()}


def unit_documents_txn(
    txn: Txn,
    unit_id: int | None,
    limit: int,
    after: tuple[int, str] | None = None,
) -> list[tuple[str, str, str, str, int | None, int | None, int, int]]:
    """(doc_id, kind, title, owner, unit_id, department_id, bytes, updated_ts) of a
    unit's documents (None: every document), newest first; `after`: (updated_ts,
    doc_id) of the last one of the page before."""
    where = "" if unit_id is None else " AND unit_id = ?"
    args: tuple[Any, ...] = () if unit_id is None else (unit_id,)
    if after is not None:
        where += " AND (updated_ts < ? OR (updated_ts = ? AND doc_id > ?))"
        args = (*args, after[0], after[0], after[1])
    txn.execute(
        "SELECT doc_id, kind, title, owner, unit_id, department_id, bytes, updated_ts"
        f" FROM jwwx_docs_documents WHERE deleted_ts IS NULL{where}"
        " ORDER BY updated_ts DESC, doc_id LIMIT ?",
        (*args, limit),
    )
    return [
        (
            r[0],
            r[1],
            r[2],
            r[3],
            None if r[4] is None else int(r[4]),
            None if r[5] is None else int(r[5]),
            int(r[6]),
            int(r[7]),
        )
        for r in txn.fetchall()
    ]


def document_place_txn(txn: Txn, doc_id: str) -> tuple[int | None, int | None] | None:
    """(unit_id, department_id) of a document not deleted; None if there is none."""
    txn.execute(
        "SELECT unit_id, department_id FROM jwwx_docs_documents"
        " WHERE doc_id = ? AND deleted_ts IS NULL",
        (doc_id,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    return (
        None if row[0] is None else int(row[0]),
        None if row[1] is None else int(row[1]),
    )
