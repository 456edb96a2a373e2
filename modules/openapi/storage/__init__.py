# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of the open API (`?` placeholders, both engines); all of it lives in this package.

Here: apps, access tokens, conversations and messages (`storage.get_app_txn`, …). One
submodule per other kind of data: callbacks.py (the callback queue), media.py (temporary
media), oauth.py (OAuth2 codes), tickets.py (JS-SDK tickets), stream.py (the event-stream
cursor). The directory's tables are read through modules.directory.public only."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn, select_in
from modules.common.synapse.tables import public_read_since_sql
from modules.directory import public as directory

_APP_COLUMNS = (
    "agentid, name, description, avatar, bot_user_id, secret_hash, visible_users,"
    " visible_departments, visible_tags, redirect_domain, ip_allowlist, callback_url,"
    " callback_token, encoding_aes_key, crypto_mode, directory_write, created_by,"
    " created_ts, updated_ts"
)
# Columns an admin update may set (besides the secret).
APP_FIELDS = (
    "name",
    "description",
    "avatar",
    "visible_users",
    "visible_departments",
    "visible_tags",
    "redirect_domain",
    "ip_allowlist",
    "callback_url",
    "callback_token",
    "encoding_aes_key",
    "crypto_mode",
    "directory_write",
)
_JSON_FIELDS = ("visible_users", "visible_departments", "visible_tags", "ip_allowlist")


@dataclass(frozen=True)
class App:
    agentid: int
    name: str
    description: str
    avatar: str | None
    bot_user_id: str
    secret_hash: str
    visible_users: tuple[str, ...]
    visible_departments: tuple[int, ...]
    visible_tags: tuple[int, ...]
    redirect_domain: str | None
    ip_allowlist: tuple[str, ...]
    callback_url: str | None
    callback_token: str | None
    encoding_aes_key: str | None
    crypto_mode: str
    directory_write: bool
    created_by: str
    created_ts: int
    updated_ts: int

    @property
    def key(self) -> int:
        """Its key among broadcast-room owners (modules/openapi/broadcast.py)."""
        return self.agentid

    @staticmethod
    def from_row(row: Any) -> "App":
        return App(
            int(row[0]),
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            tuple(json.loads(row[6])),
            tuple(int(d) for d in json.loads(row[7])),
            tuple(int(t) for t in json.loads(row[8])),
            row[9],
            tuple(json.loads(row[10])),
            row[11],
            row[12],
            row[13],
            row[14],
            bool(row[15]),
            row[16],
            int(row[17]),
            int(row[18]),
        )


def _db_value(name: str, value: Any) -> Any:
    if name in _JSON_FIELDS:
        return json.dumps(list(value), ensure_ascii=False)
    if name == "directory_write":
        return int(bool(value))
    return value


def get_app_txn(txn: Txn, agentid: int) -> App | None:
    txn.execute(
        f"SELECT {_APP_COLUMNS} FROM jwwx_openapi_apps WHERE agentid = ?", (agentid,)
    )
    row = txn.fetchone()
    return App.from_row(row) if row else None


def app_by_secret_txn(txn: Txn, secret_hash: str) -> App | None:
    txn.execute(
        f"SELECT {_APP_COLUMNS} FROM jwwx_openapi_apps WHERE secret_hash = ?",
        (secret_hash,),
    )
    row = txn.fetchone()
    return App.from_row(row) if row else None


def list_apps_txn(txn: Txn) -> list[App]:
    txn.execute(f"SELECT {_APP_COLUMNS} FROM jwwx_openapi_apps ORDER BY agentid")
    return [App.from_row(r) for r in txn.fetchall()]


def next_agentid_txn(txn: Txn, first: int) -> int:
    txn.execute("SELECT MAX(agentid) FROM jwwx_openapi_apps")
    row = txn.fetchone()
    return max(first, int(row[0]) + 1) if row and row[0] is not None else first


def insert_app_txn(txn: Txn, fields: dict[str, Any]) -> None:
    names = list(fields)
    txn.execute(
        f"INSERT INTO jwwx_openapi_apps ({', '.join(names)})"
        f" VALUES ({', '.join('?' * len(names))})",
        [_db_value(n, fields[n]) for n in names],
    )


def update_app_txn(txn: Txn, agentid: int, changes: dict[str, Any], now: int) -> None:
    if not changes:
        return
    names = list(changes)
    assignments = ", ".join(f"{n} = ?" for n in names)
    txn.execute(
        f"UPDATE jwwx_openapi_apps SET {assignments}, updated_ts = ? WHERE agentid = ?",
        (*[_db_value(n, changes[n]) for n in names], now, agentid),
    )


def set_secret_txn(txn: Txn, agentid: int, secret_hash: str, now: int) -> None:
    """A new secret; every token of the app stops working."""
    txn.execute(
        "UPDATE jwwx_openapi_apps SET secret_hash = ?, updated_ts = ? WHERE agentid = ?",
        (secret_hash, now, agentid),
    )
    txn.execute("DELETE FROM jwwx_openapi_tokens WHERE agentid = ?", (agentid,))


def delete_app_txn(txn: Txn, agentid: int) -> None:
    for table in (
        "jwwx_openapi_tokens",
        "jwwx_openapi_conversations",
        "jwwx_openapi_broadcast_members",
        "jwwx_openapi_broadcast_rooms",
        "jwwx_openapi_app_rights",
        "jwwx_openapi_apps",
    ):
        txn.execute(f"DELETE FROM {table} WHERE agentid = ?", (agentid,))  # noqa: S608


# Access tokens.


@dataclass(frozen=True)
class TokenRow:
    agentid: int
    salt: str
    issued_ts: int
    expires_ts: int


def newest_token_txn(txn: Txn, agentid: int, valid_after: int) -> TokenRow | None:
    txn.execute(
        "SELECT agentid, salt, issued_ts, expires_ts FROM jwwx_openapi_tokens"
        " WHERE agentid = ? AND expires_ts > ? ORDER BY expires_ts DESC LIMIT 1",
        (agentid, valid_after),
    )
    row = txn.fetchone()
    return TokenRow(int(row[0]), row[1], int(row[2]), int(row[3])) if row else None


def insert_token_txn(txn: Txn, token_hash: str, row: TokenRow) -> None:
    txn.execute(
        "INSERT INTO jwwx_openapi_tokens (token_hash, agentid, salt, issued_ts,"
        " expires_ts) VALUES (?, ?, ?, ?, ?)",
        (token_hash, row.agentid, row.salt, row.issued_ts, row.expires_ts),
    )


def token_by_hash_txn(txn: Txn, token_hash: str) -> tuple[int, int] | None:
    """(agentid, expires_ts) of a token."""
    txn.execute(
        "SELECT agentid, expires_ts FROM jwwx_openapi_tokens WHERE token_hash = ?",
        (token_hash,),
    )
    row = txn.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def purge_tokens_txn(txn: Txn, before: int) -> None:
    txn.execute("DELETE FROM jwwx_openapi_tokens WHERE expires_ts < ?", (before,))


# Conversations and messages.


def conversations_txn(txn: Txn, agentid: int, userids: list[str]) -> dict[str, str]:
    rows = select_in(
        txn,
        "SELECT userid, room_id FROM jwwx_openapi_conversations"
        " WHERE agentid = ? AND userid IN ({marks})",
        userids,
        (agentid,),
    )
    return {r[0]: r[1] for r in rows}


def missing_conversations_txn(
    txn: Txn, agentid: int, members: directory.MemberRange, limit: int
) -> list[str]:
    """Deliverable members of the range who have no conversation with the app yet."""
    in_range, args = directory.deliverable_query(members)
    txn.execute(
        f"SELECT d.userid FROM ({in_range}) AS d"
        " WHERE NOT EXISTS (SELECT 1 FROM jwwx_openapi_conversations AS c"
        "  WHERE c.agentid = ? AND c.userid = d.userid)"
        " ORDER BY d.userid LIMIT ?",
        [*args, agentid, limit],
    )
    return [row[0] for row in txn.fetchall()]


def claim_conversation_txn(
    txn: Txn, agentid: int, userid: str, room_id: str, now: int
) -> str:
    """Record room_id as the conversation unless one exists; return the one in use.
    ON CONFLICT: on PostgreSQL a concurrent claim (a push racing the background
    preparation) would otherwise fail this one with a unique violation."""
    txn.execute(
        "INSERT INTO jwwx_openapi_conversations (agentid, userid, room_id, created_ts)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (agentid, userid) DO NOTHING",
        (agentid, userid, room_id, now),
    )
    return conversations_txn(txn, agentid, [userid])[userid]


def conversation_count_txn(txn: Txn, agentid: int) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_openapi_conversations WHERE agentid = ?", (agentid,)
    )
    return int(txn.fetchone()[0])


def conversation_rooms_txn(txn: Txn, room_ids: list[str]) -> set[str]:
    """Which of these rooms are conversations (of any app)."""
    rows = select_in(
        txn,
        "SELECT DISTINCT room_id FROM jwwx_openapi_conversations"
        " WHERE room_id IN ({marks})",
        room_ids,
    )
    return {row[0] for row in rows}


def conversation_by_room_txn(txn: Txn, room_id: str) -> tuple[int, str] | None:
    txn.execute(
        "SELECT agentid, userid FROM jwwx_openapi_conversations WHERE room_id = ?",
        (room_id,),
    )
    row = txn.fetchone()
    return (int(row[0]), row[1]) if row else None


def insert_message_txn(
    txn: Txn,
    msgid: str,
    agentid: int,
    msgtype: str,
    recipients: int,
    now: int,
    dedup_key: str | None = None,
) -> None:
    txn.execute(
        "INSERT INTO jwwx_openapi_messages (msgid, agentid, msgtype, recipients, sent,"
        " failed, state, created_ts, dedup_key)"
        " VALUES (?, ?, ?, ?, 0, 0, 'pending', ?, ?)",
        (msgid, agentid, msgtype, recipients, now, dedup_key),
    )


def push_backlog_txn(txn: Txn) -> int:
    """Recipients of pushes still being delivered (jwwx_job_backlog{task="push"})."""
    txn.execute(
        "SELECT COALESCE(SUM(recipients - sent - failed), 0) FROM jwwx_openapi_messages"
        " WHERE state = 'pending'"
    )
    return int(txn.fetchone()[0])


def record_deliveries_txn(
    txn: Txn,
    msgid: str,
    delivered: list[tuple[str, str, str, int | None]],
    failed: int,
) -> None:
    """delivered: (userid, room_id, event_id, stream_ordering)."""
    txn.executemany(
        "INSERT INTO jwwx_openapi_message_events (msgid, userid, room_id, event_id,"
        " stream_ordering) VALUES (?, ?, ?, ?, ?)",
        [(msgid, u, r, e, o) for u, r, e, o in delivered],
    )
    txn.execute(
        "UPDATE jwwx_openapi_messages SET sent = sent + ?, failed = failed + ?"
        " WHERE msgid = ?",
        (len(delivered), failed, msgid),
    )


def finish_message_txn(txn: Txn, msgid: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_openapi_messages SET state = 'done', finished_ts = ?"
        " WHERE msgid = ? AND state = 'pending'",
        (now, msgid),
    )


def get_message_txn(txn: Txn, msgid: str) -> dict[str, Any] | None:
    txn.execute(
        "SELECT msgid, agentid, msgtype, recipients, sent, failed, state, created_ts,"
        " finished_ts, recalled_ts FROM jwwx_openapi_messages WHERE msgid = ?",
        (msgid,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    keys = (
        "msgid",
        "agentid",
        "msgtype",
        "recipients",
        "sent",
        "failed",
        "state",
        "created_ts",
        "finished_ts",
        "recalled_ts",
    )
    return dict(zip(keys, row, strict=True))


def message_events_txn(txn: Txn, msgid: str) -> list[tuple[str, str]]:
    """(room, event) of each copy; a broadcast room's one event once."""
    txn.execute(
        "SELECT DISTINCT room_id, event_id FROM jwwx_openapi_message_events"
        " WHERE msgid = ? ORDER BY room_id",
        (msgid,),
    )
    return [(r[0], r[1]) for r in txn.fetchall()]


def mark_recalled_txn(txn: Txn, msgid: str, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_openapi_messages SET state = 'recalled', recalled_ts = ?"
        " WHERE msgid = ?",
        (now, msgid),
    )


def app_statistics_txn(txn: Txn, agentid: int) -> dict[str, int]:
    txn.execute(
        "SELECT COUNT(*), COALESCE(SUM(recipients), 0), COALESCE(SUM(sent), 0),"
        " COALESCE(SUM(failed), 0) FROM jwwx_openapi_messages WHERE agentid = ?",
        (agentid,),
    )
    row = txn.fetchone()
    return {
        "messages": int(row[0]),
        "recipients": int(row[1]),
        "delivered": int(row[2]),
        "failed": int(row[3]),
    }


def _read_copies_sql(where: str) -> str:
    """COUNT of delivered copies (rows e of message_events, m of messages) whose
    recipient has a public read receipt at or after the copy."""
    read = public_read_since_sql(
        "e.room_id", "'@' || e.userid || ':' || ?", "e.stream_ordering"
    )
    return (
        "SELECT COUNT(*) FROM jwwx_openapi_message_events AS e"
        " JOIN jwwx_openapi_messages AS m ON m.msgid = e.msgid"
        f" WHERE {where} AND e.stream_ordering IS NOT NULL AND {read}"
    )


def read_count_txn(txn: Txn, msgid: str, server_name: str) -> int:
    """How many recipients have a public read receipt at or after their copy."""
    txn.execute(_read_copies_sql("e.msgid = ?"), (msgid, server_name))
    return int(txn.fetchone()[0])


def app_read_count_txn(txn: Txn, agentid: int, server_name: str) -> int:
    """The same over every message of the app (one query, receipts index lookups)."""
    txn.execute(_read_copies_sql("m.agentid = ?"), (agentid, server_name))
    return int(txn.fetchone()[0])


def recent_messages_txn(txn: Txn, agentid: int, limit: int) -> list[str]:
    txn.execute(
        "SELECT msgid FROM jwwx_openapi_messages WHERE agentid = ?"
        " ORDER BY created_ts DESC, msgid LIMIT ?",
        (agentid, limit),
    )
    return [row[0] for row in txn.fetchall()]


def find_duplicate_txn(
    txn: Txn, agentid: int, dedup_key: str, since: int
) -> str | None:
    """The msgid of the same message sent since `since` (not recalled), if any."""
    txn.execute(
        "SELECT msgid FROM jwwx_openapi_messages WHERE agentid = ? AND dedup_key = ?"
        " AND created_ts >= ? AND state <> 'recalled' ORDER BY created_ts LIMIT 1",
        (agentid, dedup_key, since),
    )
    row = txn.fetchone()
    return None if row is None else str(row[0])
