# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.favorites."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn, batch, delete_rows_txn, like_contains


@dataclass(frozen=True)
class Favorite:
    id: str
    user_id: str
    room_id: str
    event_id: str
    sender: str
    event_type: str
    kind: str
    content: dict[str, Any]
    origin_ts: int
    created_ts: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "room_id": self.room_id,
            "event_id": self.event_id,
            "sender": self.sender,
            "type": self.event_type,
            "kind": self.kind,
            "content": self.content,
            "origin_server_ts": self.origin_ts,
            "created_ts": self.created_ts,
        }


_COLUMNS = (
    "id, user_id, room_id, event_id, sender, event_type, kind, content, origin_ts,"
    " created_ts"
)


def _favorite(row: Any) -> Favorite:
    return Favorite(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        json.loads(row[7]),
        int(row[8]),
        int(row[9]),
    )


def _one_txn(txn: Txn, user_id: str, column: str, value: str) -> Favorite | None:
    txn.execute(
        f"SELECT {_COLUMNS} FROM jwwx_favorites WHERE user_id = ? AND {column} = ?",  # noqa: S608
        (user_id, value),
    )
    row = txn.fetchone()
    return _favorite(row) if row else None


def get_txn(txn: Txn, user_id: str, favorite_id: str) -> Favorite | None:
    return _one_txn(txn, user_id, "id", favorite_id)


def by_event_txn(txn: Txn, user_id: str, event_id: str) -> Favorite | None:
    return _one_txn(txn, user_id, "event_id", event_id)


def count_txn(txn: Txn, user_id: str) -> int:
    txn.execute("SELECT COUNT(*) FROM jwwx_favorites WHERE user_id = ?", (user_id,))
    return int(txn.fetchone()[0])


def insert_txn(
    txn: Txn, favorite: Favorite, search_text: str, media: list[str]
) -> None:
    """The favourite, and the mxc URIs it re-references (kept by retention)."""
    txn.execute(
        f"INSERT INTO jwwx_favorites ({_COLUMNS}, search_text)"  # noqa: S608
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            favorite.id,
            favorite.user_id,
            favorite.room_id,
            favorite.event_id,
            favorite.sender,
            favorite.event_type,
            favorite.kind,
            json.dumps(favorite.content, ensure_ascii=False),
            favorite.origin_ts,
            favorite.created_ts,
            search_text,
        ),
    )
    batch(
        txn,
        "INSERT INTO jwwx_favorites_media (favorite_id, mxc) VALUES (?, ?)",
        [(favorite.id, mxc) for mxc in media],
    )


def delete_txn(txn: Txn, user_id: str, favorite_id: str) -> bool:
    if not delete_rows_txn(
        txn, "jwwx_favorites", {"user_id": user_id, "id": favorite_id}
    ):
        return False
    delete_rows_txn(txn, "jwwx_favorites_media", {"favorite_id": favorite_id})
    return True


def list_txn(
    txn: Txn, user_id: str, term: str | None, limit: int, offset: int
) -> list[Favorite]:
    """Newest first; `term` (folded) must occur in the body or file name."""
    sql = f"SELECT {_COLUMNS} FROM jwwx_favorites WHERE user_id = ?"  # noqa: S608
    args: list[Any] = [user_id]
    if term:
        sql += " AND search_text LIKE ? ESCAPE '\\'"
        args.append(like_contains(term))
    sql += " ORDER BY created_ts DESC, id LIMIT ? OFFSET ?"
    args += [limit, offset]
    txn.execute(sql, args)
    return [_favorite(row) for row in txn.fetchall()]


def favourited_txn(txn: Txn, mxcs: list[str]) -> set[str]:
    """Which of these mxc URIs some favourite references (500 per query)."""
    found: set[str] = set()
    for start in range(0, len(mxcs), 500):
        chunk = mxcs[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        txn.execute(
            f"SELECT DISTINCT mxc FROM jwwx_favorites_media WHERE mxc IN ({marks})",  # noqa: S608
            chunk,
        )
        found.update(row[0] for row in txn.fetchall())
    return found
