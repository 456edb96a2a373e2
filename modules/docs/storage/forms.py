# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.docs' collection forms (schema/0003_forms.sql)."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn


@dataclass
class Form:
    form_id: str
    title: str
    description: str
    questions: list[dict[str, Any]]
    respondents: dict[str, Any]
    deadline_ts: int | None
    editable: bool
    anonymous: bool
    status: str  # draft | published
    creator: str
    unit_id: int | None
    department_id: int | None
    created_ts: int
    updated_ts: int
    published_ts: int | None

    def as_json(self) -> dict[str, Any]:
        return {
            "form_id": self.form_id,
            "title": self.title,
            "description": self.description,
            "questions": self.questions,
            "respondents": self.respondents,
            "deadline": self.deadline_ts,
            "editable": self.editable,
            "anonymous": self.anonymous,
            "status": self.status,
            "creator": self.creator,
            "unit_id": self.unit_id,
            "department_id": self.department_id,
            "created_ts": self.created_ts,
            "updated_ts": self.updated_ts,
            "published_ts": self.published_ts,
        }


_FORM = (
    "form_id, title, description, questions, respondents, deadline_ts, editable,"
    " anonymous, status, creator, unit_id, department_id, created_ts, updated_ts,"
    " published_ts"
)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _form(row: Any) -> Form:
    return Form(
        row[0],
        row[1],
        row[2],
        json.loads(row[3]),
        json.loads(row[4]),
        _int(row[5]),
        bool(row[6]),
        bool(row[7]),
        row[8],
        row[9],
        _int(row[10]),
        _int(row[11]),
        int(row[12]),
        int(row[13]),
        _int(row[14]),
    )


def create_txn(txn: Txn, form: Form) -> None:
    txn.execute(
        f"INSERT INTO jwwx_docs_forms ({_FORM}, deleted_ts)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        (
            form.form_id,
            form.title,
            form.description,
            json.dumps(form.questions, ensure_ascii=False),
            json.dumps(form.respondents, ensure_ascii=False),
            form.deadline_ts,
            int(form.editable),
            int(form.anonymous),
            form.status,
            form.creator,
            form.unit_id,
            form.department_id,
            form.created_ts,
            form.updated_ts,
            form.published_ts,
        ),
    )


def update_txn(txn: Txn, form: Form) -> None:
    txn.execute(
        "UPDATE jwwx_docs_forms SET title = ?, description = ?, questions = ?,"
        " respondents = ?, deadline_ts = ?, editable = ?, anonymous = ?, status = ?,"
        " updated_ts = ?, published_ts = ? WHERE form_id = ?",
        (
            form.title,
            form.description,
            json.dumps(form.questions, ensure_ascii=False),
            json.dumps(form.respondents, ensure_ascii=False),
            form.deadline_ts,
            int(form.editable),
            int(form.anonymous),
            form.status,
            form.updated_ts,
            form.published_ts,
            form.form_id,
        ),
    )


def get_txn(txn: Txn, form_id: str) -> Form | None:
    txn.execute(
        f"SELECT {_FORM} FROM jwwx_docs_forms WHERE form_id = ? AND deleted_ts IS NULL",
        (form_id,),
    )
    row = txn.fetchone()
    return _form(row) if row else None


def delete_txn(txn: Txn, form_id: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_docs_forms SET deleted_ts = ? WHERE form_id = ?", (now, form_id)
    )
    txn.execute("DELETE FROM jwwx_docs_form_answers WHERE form_id = ?", (form_id,))
    txn.execute("DELETE FROM jwwx_docs_form_respondents WHERE form_id = ?", (form_id,))


def created_by_txn(txn: Txn, creator: str, limit: int) -> list[Form]:
    txn.execute(
        f"SELECT {_FORM} FROM jwwx_docs_forms WHERE creator = ?"
        " AND deleted_ts IS NULL ORDER BY updated_ts DESC, form_id LIMIT ?",
        (creator, limit),
    )
    return [_form(r) for r in txn.fetchall()]


def open_forms_txn(txn: Txn, now: int, limit: int) -> list[Form]:
    """Published forms whose deadline has not passed (newest first)."""
    txn.execute(
        f"SELECT {_FORM} FROM jwwx_docs_forms WHERE status = 'published'"
        " AND deleted_ts IS NULL AND (deadline_ts IS NULL OR deadline_ts > ?)"
        " ORDER BY published_ts DESC, form_id LIMIT ?",
        (now, limit),
    )
    return [_form(r) for r in txn.fetchall()]


def unit_forms_txn(
    txn: Txn, unit_id: int | None, limit: int, after: tuple[int, str] | None = None
) -> list[Form]:
    """A unit's forms (None: every form), newest first; `after`: (updated_ts, form_id)
    of the last one of the page before."""
    where = "AND unit_id = ?" if unit_id is not None else ""
    args: list[Any] = [unit_id] if unit_id is not None else []
    if after is not None:
        where += " AND (updated_ts < ? OR (updated_ts = ? AND form_id > ?))"
        args += [after[0], after[0], after[1]]
    txn.execute(
        f"SELECT {_FORM} FROM jwwx_docs_forms WHERE deleted_ts IS NULL {where}"
        " ORDER BY updated_ts DESC, form_id LIMIT ?",
        (*args, limit),
    )
    return [_form(r) for r in txn.fetchall()]


def answered_txn(txn: Txn, form_id: str) -> dict[str, tuple[int | None, int]]:
    """user id → (unit id, answered_ts) of everyone who answered."""
    txn.execute(
        "SELECT user_id, unit_id, answered_ts FROM jwwx_docs_form_respondents"
        " WHERE form_id = ?",
        (form_id,),
    )
    return {r[0]: (_int(r[1]), int(r[2])) for r in txn.fetchall()}


def has_answered_txn(txn: Txn, form_id: str, user_id: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_docs_form_respondents WHERE form_id = ? AND user_id = ?",
        (form_id, user_id),
    )
    return txn.fetchone() is not None


def get_answer_txn(
    txn: Txn, form_id: str, answer_key: str
) -> tuple[str, str, int, int] | None:
    """(key id, sealed body, created_ts, updated_ts) of one answer."""
    txn.execute(
        "SELECT key_id, body, created_ts, updated_ts FROM jwwx_docs_form_answers"
        " WHERE form_id = ? AND answer_key = ?",
        (form_id, answer_key),
    )
    row = txn.fetchone()
    return (row[0], row[1], int(row[2]), int(row[3])) if row else None


class AnsweredMeanwhileError(Exception):
    """Another request stored this officer's first answer meanwhile."""


def save_answer_txn(
    txn: Txn,
    form_id: str,
    user_id: str,
    unit_id: int | None,
    answer_key: str,
    key_id: str,
    body: str,
    now: int,
    stamped: bool,
) -> bool:
    """Store an officer's answer (a new one, or his edit); True if it was new. The
    answer's own times are 0 unless `stamped` (named forms)."""
    new = not has_answered_txn(txn, form_id, user_id)
    ts = now if stamped else 0
    if new:
        # ON CONFLICT: the same officer's answer sent twice at once to two processes
        # (on PostgreSQL the second waits for the first, then finds its row).
        txn.execute(
            "INSERT INTO jwwx_docs_form_respondents (form_id, user_id, unit_id,"
            " answered_ts) VALUES (?, ?, ?, ?) ON CONFLICT (form_id, user_id) DO NOTHING",
            (form_id, user_id, unit_id, now),
        )
        if txn.rowcount != 1:
            raise AnsweredMeanwhileError(form_id)
        txn.execute(
            "INSERT INTO jwwx_docs_form_answers (form_id, answer_key, key_id, body,"
            " created_ts, updated_ts) VALUES (?, ?, ?, ?, ?, ?)",
            (form_id, answer_key, key_id, body, ts, ts),
        )
    else:
        txn.execute(
            "UPDATE jwwx_docs_form_answers SET key_id = ?, body = ?, updated_ts = ?"
            " WHERE form_id = ? AND answer_key = ?",
            (key_id, body, ts, form_id, answer_key),
        )
    return new


def answers_txn(txn: Txn, form_id: str) -> list[tuple[str, str, str, int, int]]:
    """(answer key, key id, sealed body, created_ts, updated_ts) of every answer,
    in the order they came (named forms; anonymous ones in key order)."""
    txn.execute(
        "SELECT answer_key, key_id, body, created_ts, updated_ts"
        " FROM jwwx_docs_form_answers WHERE form_id = ?"
        " ORDER BY created_ts, answer_key",
        (form_id,),
    )
    return [(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in txn.fetchall()]
