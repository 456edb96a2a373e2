# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.docs (schema/0001_docs.sql)."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn
from modules.docs.chain import Revision

ROLES = ("reader", "commenter", "editor", "owner")
PRINCIPALS = ("user", "department", "tag")


@dataclass(frozen=True)
class Document:
    doc_id: str
    kind: str
    title: str
    owner: str
    link_role: str | None
    created_ts: int
    updated_ts: int
    head_seq: int

    def as_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "kind": self.kind,
            "title": self.title,
            "owner": self.owner,
            "link_role": self.link_role,
            "created_ts": self.created_ts,
            "updated_ts": self.updated_ts,
            "revision": self.head_seq,
        }


@dataclass(frozen=True)
class Grant:
    principal_kind: str  # user, department, tag
    principal: str
    role: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.principal_kind, "id": self.principal, "role": self.role}


_DOC = "doc_id, kind, title, owner, link_role, created_ts, updated_ts, head_seq"
_REV = "doc_id, seq, kind, user_id, created_ts, key_id, body, chain"


def _document(row: Any) -> Document:
    return Document(
        row[0], row[1], row[2], row[3], row[4], int(row[5]), int(row[6]), int(row[7])
    )


def _revision(row: Any) -> Revision:
    return Revision(
        row[0], int(row[1]), row[2], row[3], int(row[4]), row[5], row[6], row[7]
    )


def create_txn(
    txn: Txn,
    doc: Document,
    unit_id: int | None = None,
    department_id: int | None = None,
) -> None:
    """A new document of the owner's unit and main department (None: not in the
    directory)."""
    txn.execute(
        "INSERT INTO jwwx_docs_documents (doc_id, kind, title, owner, link_role,"
        " created_ts, updated_ts, deleted_ts, head_seq, head_chain, unit_id,"
        " department_id) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, 0, '', ?, ?)",
        (
            doc.doc_id,
            doc.kind,
            doc.title,
            doc.owner,
            doc.link_role,
            doc.created_ts,
            doc.updated_ts,
            unit_id,
            department_id,
        ),
    )


def count_owned_txn(txn: Txn, owner: str) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_docs_documents WHERE owner = ?"
        " AND deleted_ts IS NULL",
        (owner,),
    )
    return int(txn.fetchone()[0])


def get_txn(txn: Txn, doc_id: str) -> Document | None:
    txn.execute(
        f"SELECT {_DOC} FROM jwwx_docs_documents WHERE doc_id = ?"
        " AND deleted_ts IS NULL",
        (doc_id,),
    )
    row = txn.fetchone()
    return _document(row) if row else None


def owned_txn(txn: Txn, owner: str, limit: int) -> list[Document]:
    txn.execute(
        f"SELECT {_DOC} FROM jwwx_docs_documents WHERE owner = ?"
        " AND deleted_ts IS NULL ORDER BY updated_ts DESC, doc_id LIMIT ?",
        (owner, limit),
    )
    return [_document(r) for r in txn.fetchall()]


def granted_txn(
    txn: Txn, principals: list[tuple[str, str]], owner: str, limit: int
) -> list[tuple[Document, list[str]]]:
    """The `limit` newest documents of others than `owner` shared with any of (kind,
    id), each with the roles of those grants: the limit counts documents, however
    many of the person's grants reach one (one statement)."""
    if not principals:
        return []
    where = " OR ".join(
        "(g.principal_kind = ? AND g.principal = ?)" for _ in principals
    )
    args: list[Any] = [v for p in principals for v in p]
    columns = ", ".join("d." + c.strip() for c in _DOC.split(","))
    txn.execute(
        f"SELECT {columns}, g.role FROM (SELECT {_DOC} FROM jwwx_docs_documents"
        " WHERE deleted_ts IS NULL AND owner <> ? AND doc_id IN"
        f" (SELECT g.doc_id FROM jwwx_docs_grants g WHERE {where})"
        " ORDER BY updated_ts DESC, doc_id LIMIT ?) d"
        f" JOIN jwwx_docs_grants g ON g.doc_id = d.doc_id WHERE {where}"
        " ORDER BY d.updated_ts DESC, d.doc_id",
        (owner, *args, limit, *args),
    )
    found: dict[str, tuple[Document, list[str]]] = {}
    for row in txn.fetchall():
        doc = found.setdefault(row[0], (_document(row), []))
        doc[1].append(row[8])
    return list(found.values())


def granted_tags_txn(txn: Txn) -> list[str]:
    """The tags any document is shared with (to find a person's tag grants)."""
    txn.execute(
        "SELECT DISTINCT principal FROM jwwx_docs_grants WHERE principal_kind = 'tag'"
        " ORDER BY principal"
    )
    return [r[0] for r in txn.fetchall()]


def rename_txn(txn: Txn, doc_id: str, title: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_docs_documents SET title = ?, updated_ts = ? WHERE doc_id = ?",
        (title, now, doc_id),
    )


def delete_txn(txn: Txn, doc_id: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_docs_documents SET deleted_ts = ? WHERE doc_id = ?", (now, doc_id)
    )


def grants_txn(txn: Txn, doc_id: str) -> list[Grant]:
    txn.execute(
        "SELECT principal_kind, principal, role FROM jwwx_docs_grants"
        " WHERE doc_id = ? ORDER BY principal_kind, principal",
        (doc_id,),
    )
    return [Grant(r[0], r[1], r[2]) for r in txn.fetchall()]


def replace_sharing_txn(
    txn: Txn, doc_id: str, grants: list[Grant], link_role: str | None, now: int
) -> None:
    txn.execute("DELETE FROM jwwx_docs_grants WHERE doc_id = ?", (doc_id,))
    txn.executemany(
        "INSERT INTO jwwx_docs_grants (doc_id, principal_kind, principal, role)"
        " VALUES (?, ?, ?, ?)",
        [(doc_id, g.principal_kind, g.principal, g.role) for g in grants],
    )
    txn.execute(
        "UPDATE jwwx_docs_documents SET link_role = ?, updated_ts = ? WHERE doc_id = ?",
        (link_role, now, doc_id),
    )


# Revisions


def head_txn(txn: Txn, doc_id: str) -> tuple[int, str] | None:
    txn.execute(
        "SELECT head_seq, head_chain FROM jwwx_docs_documents WHERE doc_id = ?",
        (doc_id,),
    )
    row = txn.fetchone()
    return (int(row[0]), str(row[1])) if row else None


def append_txn(txn: Txn, rev: Revision) -> None:
    """Append one revision and move the head; the caller sealed it on the head it read
    (one writer per document: the room's queue)."""
    txn.execute(
        f"INSERT INTO jwwx_docs_revisions ({_REV}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            rev.doc_id,
            rev.seq,
            rev.kind,
            rev.user_id,
            rev.created_ts,
            rev.key_id,
            rev.body,
            rev.chain,
        ),
    )
    txn.execute(
        "UPDATE jwwx_docs_documents SET head_seq = ?, head_chain = ?, updated_ts = ?,"
        " bytes = bytes + ? WHERE doc_id = ? AND head_seq = ?",
        (rev.seq, rev.chain, rev.created_ts, len(rev.body), rev.doc_id, rev.seq - 1),
    )
    if txn.rowcount != 1:
        raise RuntimeError(
            f"document {rev.doc_id}: head moved under revision {rev.seq}"
        )


def all_revisions_txn(txn: Txn, doc_id: str) -> Iterator[Revision]:
    txn.execute(
        f"SELECT {_REV} FROM jwwx_docs_revisions WHERE doc_id = ? ORDER BY seq",
        (doc_id,),
    )
    return iter([_revision(r) for r in txn.fetchall()])


def revisions_for_state_txn(txn: Txn, doc_id: str, upto: int) -> list[Revision]:
    """The latest snapshot at or before `upto` and the revisions after it up to `upto`:
    what rebuilds the document as it was at revision `upto`."""
    txn.execute(
        "SELECT MAX(seq) FROM jwwx_docs_revisions WHERE doc_id = ? AND seq <= ?"
        " AND kind = 'snapshot'",
        (doc_id, upto),
    )
    row = txn.fetchone()
    start = int(row[0]) if row and row[0] is not None else 1
    txn.execute(
        f"SELECT {_REV} FROM jwwx_docs_revisions WHERE doc_id = ? AND seq >= ?"
        " AND seq <= ? ORDER BY seq",
        (doc_id, start, upto),
    )
    return [_revision(r) for r in txn.fetchall()]


def history_txn(txn: Txn, doc_id: str, limit: int) -> list[dict[str, Any]]:
    """Versions to show: snapshots and restores, newest first."""
    txn.execute(
        "SELECT seq, kind, user_id, created_ts FROM jwwx_docs_revisions"
        " WHERE doc_id = ? AND kind <> 'update' ORDER BY seq DESC LIMIT ?",
        (doc_id, limit),
    )
    return [
        {"revision": int(r[0]), "kind": r[1], "user_id": r[2], "ts": int(r[3])}
        for r in txn.fetchall()
    ]


def editors_since_txn(txn: Txn, doc_id: str, after: int) -> list[str]:
    txn.execute(
        "SELECT DISTINCT user_id FROM jwwx_docs_revisions WHERE doc_id = ? AND seq > ?"
        " AND kind = 'update' ORDER BY user_id",
        (doc_id, after),
    )
    return [r[0] for r in txn.fetchall()]


def document_ids_txn(txn: Txn) -> list[str]:
    """Every document, deleted ones too (their revisions are kept)."""
    txn.execute("SELECT doc_id FROM jwwx_docs_documents ORDER BY doc_id")
    return [r[0] for r in txn.fetchall()]
