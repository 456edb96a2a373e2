# SPDX-License-Identifier: AGPL-3.0-or-later
"""The SQL of modules.search: the index (jwwx_search_docs with FTS5 on SQLite, a
tsvector with GIN on PostgreSQL) and the stream cursor. Token lists come from text.py;
queries are built here from its phrases, with every value as an argument."""

from collections.abc import Sequence
from dataclasses import dataclass

from modules.common.storage import Txn
from modules.common.synapse.database import engine_of_txn
from modules.common.synapse.tables import event_json_txn
from modules.search.extract import (
    Action,
    Document,
    Edit,
    Forget,
    Membership,
    RoomName,
    content_text,
)
from modules.search.syntax import (
    fts5_match,
    tsquery_candidates,
    tsquery_literal,
    tsvector_literal,
)
from modules.search.text import Phrase, index_tokens, name_text

CURSOR = "events"
_DOC_COLUMNS = (
    "d.stream_ordering, d.event_id, d.room_id, d.sender, d.origin_ts, d.kind,"
    " d.msgtype, d.file_name, d.mimetype, d.mxc"
)


@dataclass(frozen=True)
class Hit:
    stream_ordering: int
    event_id: str
    room_id: str
    sender: str
    origin_ts: int
    kind: str
    msgtype: str
    file_name: str | None
    mimetype: str | None
    mxc: str | None


@dataclass(frozen=True)
class Query:
    """What to find: every phrase (none: any message), in these rooms, newest first
    below `before` (a stream ordering), with optional filters."""

    phrases: tuple[Phrase, ...]
    room_ids: tuple[str, ...]
    limit: int
    before: int | None = None
    kinds: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    since_ts: int | None = None
    until_ts: int | None = None


# the cursor


def cursor_txn(txn: Txn, start_at: int) -> int:
    """The stored position; the first time, `start_at`."""
    txn.execute(
        "SELECT stream_ordering FROM jwwx_search_cursor WHERE name = ?", (CURSOR,)
    )
    row = txn.fetchone()
    if row is not None:
        return int(row[0])
    txn.execute(
        "INSERT INTO jwwx_search_cursor (name, stream_ordering) VALUES (?, ?)",
        (CURSOR, start_at),
    )
    return start_at


def move_cursor_txn(txn: Txn, position: int) -> None:
    txn.execute(
        "UPDATE jwwx_search_cursor SET stream_ordering = ? WHERE name = ?",
        (position, CURSOR),
    )


# writing


def _replace_terms_txn(txn: Txn, stream_ordering: int, text: str) -> None:
    """An indexed message's text changed (an edit shown, or undone)."""
    tokens = index_tokens(text)
    if engine_of_txn(txn) == "postgres":
        txn.execute(
            "UPDATE jwwx_search_docs SET terms = ?::tsvector WHERE stream_ordering = ?",
            (tsvector_literal(tokens), stream_ordering),
        )
        return
    txn.execute("DELETE FROM jwwx_search_fts WHERE rowid = ?", (stream_ordering,))
    txn.execute(
        "INSERT INTO jwwx_search_fts (rowid, terms) VALUES (?, ?)",
        (stream_ordering, " ".join(tokens)),
    )


_DOC_COLUMNS = (
    "stream_ordering, event_id, room_id, sender, origin_ts, kind, msgtype,"
    " file_name, mimetype, mxc"
)


def _add_txn(txn: Txn, stream_ordering: int, doc: Document) -> None:
    values = (
        stream_ordering,
        doc.event_id,
        doc.room_id,
        doc.sender,
        doc.origin_ts,
        doc.kind,
        doc.msgtype,
        doc.file_name,
        doc.mimetype,
        doc.mxc,
    )
    tokens = index_tokens(doc.text)
    # One statement per message on PostgreSQL (was a look-up, an insert and an update
    # of the terms: three round trips and two GIN entries); a step repeated after a
    # crash finds its row under either key and adds nothing.
    if engine_of_txn(txn) == "postgres":
        txn.execute(
            f"INSERT INTO jwwx_search_docs ({_DOC_COLUMNS}, terms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::tsvector) ON CONFLICT DO NOTHING",
            (*values, tsvector_literal(tokens)),
        )
        return
    txn.execute(
        f"INSERT OR IGNORE INTO jwwx_search_docs ({_DOC_COLUMNS})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        values,
    )
    if txn.rowcount == 1:
        txn.execute(
            "INSERT INTO jwwx_search_fts (rowid, terms) VALUES (?, ?)",
            (stream_ordering, " ".join(tokens)),
        )


def _edit_txn(txn: Txn, edit: Edit) -> None:
    txn.execute(
        "SELECT stream_ordering, sender FROM jwwx_search_docs WHERE event_id = ?",
        (edit.original_id,),
    )
    row = txn.fetchone()
    # Only the sender may edit (Synapse ignores other senders' m.replace too).
    if row is None or row[1] != edit.sender:
        return
    txn.execute("SELECT 1 FROM jwwx_search_edits WHERE edit_id = ?", (edit.event_id,))
    if txn.fetchone() is None:  # else: a step repeated after a crash
        txn.execute(
            "INSERT INTO jwwx_search_edits (edit_id, original_id, origin_ts, body, text)"
            " VALUES (?, ?, ?, ?, ?)",
            (edit.event_id, edit.original_id, edit.origin_ts, edit.body, edit.text),
        )
    _show_current_txn(txn, edit.original_id, int(row[0]))


def _show_current_txn(txn: Txn, original_id: str, stream_ordering: int) -> None:
    """Index the text Synapse shows of a message: its newest remaining edit (highest
    origin_server_ts, then event id), else its own content."""
    txn.execute(
        "SELECT text FROM jwwx_search_edits WHERE original_id = ?"
        " ORDER BY origin_ts DESC, edit_id DESC LIMIT 1",
        (original_id,),
    )
    row = txn.fetchone()
    if row is not None:
        text = str(row[0])
    else:
        event = event_json_txn(txn, original_id)
        content = event.get("content") if event else None
        text = content_text(content) if isinstance(content, dict) else ""
    _replace_terms_txn(txn, stream_ordering, text)


def _forget_edit_txn(txn: Txn, edit_id: str) -> bool:
    """A redacted edit: the message shows (and is found by) what it showed before."""
    txn.execute(
        "SELECT e.original_id, d.stream_ordering FROM jwwx_search_edits AS e"
        " LEFT JOIN jwwx_search_docs AS d ON d.event_id = e.original_id"
        " WHERE e.edit_id = ?",
        (edit_id,),
    )
    row = txn.fetchone()
    if row is None:
        return False
    txn.execute("DELETE FROM jwwx_search_edits WHERE edit_id = ?", (edit_id,))
    if row[1] is not None:
        _show_current_txn(txn, row[0], int(row[1]))
    return True


def forget_txn(txn: Txn, event_ids: Sequence[str]) -> int:
    """Drop these events from the index (an edit among them: the message it edited
    goes back to what it showed before); how many messages were there."""
    dropped = 0
    sqlite = engine_of_txn(txn) == "sqlite"
    for event_id in event_ids:
        txn.execute(
            "SELECT stream_ordering FROM jwwx_search_docs WHERE event_id = ?",
            (event_id,),
        )
        row = txn.fetchone()
        if row is None:
            _forget_edit_txn(txn, event_id)
            continue
        if sqlite:
            txn.execute("DELETE FROM jwwx_search_fts WHERE rowid = ?", (row[0],))
        txn.execute("DELETE FROM jwwx_search_docs WHERE stream_ordering = ?", (row[0],))
        txn.execute("DELETE FROM jwwx_search_edits WHERE original_id = ?", (event_id,))
        dropped += 1
    return dropped


def current_edits_txn(
    txn: Txn, original_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Per message, its edits newest first as (edit id, body shown)."""
    found: dict[str, list[tuple[str, str]]] = {}
    if not original_ids:
        return found
    marks = ", ".join("?" * len(original_ids))
    txn.execute(
        "SELECT original_id, edit_id, body FROM jwwx_search_edits"  # noqa: S608
        f" WHERE original_id IN ({marks}) ORDER BY origin_ts DESC, edit_id DESC",
        tuple(original_ids),
    )
    for original_id, edit_id, body in txn.fetchall():
        found.setdefault(original_id, []).append((edit_id, body))
    return found


def apply_txn(txn: Txn, actions: Sequence[tuple[int, Action]]) -> None:
    """Apply what a batch of the stream does to the index, in stream order."""
    for stream_ordering, action in actions:
        if isinstance(action, Document):
            _add_txn(txn, stream_ordering, action)
        elif isinstance(action, Edit):
            _edit_txn(txn, action)
        elif isinstance(action, Forget):
            forget_txn(txn, [action.event_id])
        elif isinstance(action, RoomName):
            _room_name_txn(txn, action)
        elif isinstance(action, Membership):
            _membership_txn(txn, action)


def _room_name_txn(txn: Txn, action: RoomName) -> None:
    txn.execute(
        "DELETE FROM jwwx_search_room_names WHERE room_id = ?", (action.room_id,)
    )
    if action.name:
        txn.execute(
            "INSERT INTO jwwx_search_room_names (room_id, name, folded) VALUES (?, ?, ?)",
            (action.room_id, action.name, name_text(action.name)),
        )


def _membership_txn(txn: Txn, action: Membership) -> None:
    txn.execute(
        "DELETE FROM jwwx_search_room_members WHERE room_id = ? AND user_id = ?",
        (action.room_id, action.user_id),
    )
    if not action.joined:
        return
    localpart = action.user_id[1:].split(":", 1)[0]
    shown = action.displayname or localpart
    folded = f"{name_text(shown)} {localpart.lower()}"[:1100]
    txn.execute(
        "INSERT INTO jwwx_search_room_members (room_id, user_id, displayname,"
        " folded) VALUES (?, ?, ?, ?)",
        (action.room_id, action.user_id, action.displayname, folded),
    )
    txn.execute(
        "SELECT folded FROM jwwx_search_people WHERE user_id = ?", (action.user_id,)
    )
    row = txn.fetchone()
    if row is None:
        txn.execute(
            "INSERT INTO jwwx_search_people (user_id, displayname, folded)"
            " VALUES (?, ?, ?)",
            (action.user_id, action.displayname, folded),
        )
    elif row[0] != folded:
        txn.execute(
            "UPDATE jwwx_search_people SET displayname = ?, folded = ?"
            " WHERE user_id = ?",
            (action.displayname, folded, action.user_id),
        )


def people_matching_txn(txn: Txn, pattern: str, limit: int) -> list[str]:
    """User ids whose name, its pinyin or initials, or localpart match the LIKE
    pattern (at most `limit`)."""
    txn.execute(
        "SELECT user_id FROM jwwx_search_people WHERE folded LIKE ? ESCAPE '\\'"
        " ORDER BY user_id LIMIT ?",
        (pattern, limit),
    )
    return [row[0] for row in txn.fetchall()]


# reading


def _where(txn: Txn, query: Query) -> tuple[str, str, list[object]]:
    """(FROM …, WHERE …, arguments) shared by the search and its count."""
    args: list[object] = []
    conditions: list[str] = []
    late: list[str] = []  # checked after the others
    late_args: list[object] = []
    source = "jwwx_search_docs AS d"
    if query.phrases:
        if engine_of_txn(txn) == "postgres":
            # GIN finds the rows holding every token (exactly, no re-check); the
            # phrases are checked on those in the officer's rooms only (ts_match_vq
            # is @@ the index cannot take): syntax.tsquery_candidates. With phrases,
            # the tsquery is a sub-select so that the planner does not multiply
            # their tokens' frequencies into a tiny estimate: it then ANDs the GIN
            # bitmap with the room index before reading rows (4 characters at
            # 200,000 messages: 51 → 3 ms). One token per phrase (2 characters, a
            # word) keeps the constant: the planner's own choice was faster there
            # (3 vs 11 ms; p99 2.4 s at 2 million messages). docs/search.md.
            candidates = tsquery_candidates(query.phrases)
            if any(len(phrase.tokens) > 1 for phrase in query.phrases):
                conditions.append("d.terms @@ (SELECT ?::tsquery)")
                args.append(candidates)
                late.append("ts_match_vq(d.terms, ?::tsquery)")
                late_args.append(tsquery_literal(query.phrases))
            else:
                conditions.append("d.terms @@ ?::tsquery")
                args.append(candidates)
        else:
            source = (
                "jwwx_search_fts AS f JOIN jwwx_search_docs AS d"
                " ON d.stream_ordering = f.rowid"
            )
            conditions.append("jwwx_search_fts MATCH ?")
            args.append(fts5_match(query.phrases))
    conditions.append(f"d.room_id IN ({', '.join('?' * len(query.room_ids))})")
    args.extend(query.room_ids)
    if query.kinds:
        conditions.append(f"d.kind IN ({', '.join('?' * len(query.kinds))})")
        args.extend(query.kinds)
    if query.senders:
        conditions.append(f"d.sender IN ({', '.join('?' * len(query.senders))})")
        args.extend(query.senders)
    if query.since_ts is not None:
        conditions.append("d.origin_ts >= ?")
        args.append(query.since_ts)
    if query.until_ts is not None:
        conditions.append("d.origin_ts < ?")
        args.append(query.until_ts)
    return source, " AND ".join(conditions + late), args + late_args


def search_txn(txn: Txn, query: Query) -> list[Hit]:
    if not query.room_ids:
        return []
    source, where, args = _where(txn, query)
    # On SQLite, ordering by the FTS5 rowid (= stream_ordering) lets FTS5 hand out
    # matches newest first and stop at the limit; ordering by the docs column made
    # SQLite sort every match first (p50 44 → 0.4 ms for 2 characters at 200,000
    # messages, docs/search.md).
    order = "f.rowid" if source.startswith("jwwx_search_fts") else "d.stream_ordering"
    if query.before is not None:
        where += f" AND {order} < ?"
        args.append(query.before)
    txn.execute(
        f"SELECT {_DOC_COLUMNS} FROM {source} WHERE {where}"  # noqa: S608
        f" ORDER BY {order} DESC LIMIT ?",
        (*args, query.limit),
    )
    return [
        Hit(int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6], r[7], r[8], r[9])
        for r in txn.fetchall()
    ]


def count_txn(txn: Txn, query: Query, cap: int) -> int:
    """How many match (at most `cap`: a common term over a large history would
    otherwise count every match)."""
    if not query.room_ids:
        return 0
    source, where, args = _where(txn, query)
    txn.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {where}"  # noqa: S608
        " LIMIT ?) AS matched",
        (*args, cap),
    )
    row = txn.fetchone()
    return int(row[0]) if row else 0


# groups (rooms) by name or member


@dataclass(frozen=True)
class RoomMatch:
    room_id: str
    name: str | None
    members: tuple[tuple[str, str | None], ...]  # (user_id, displayname) that matched


def rooms_matching_txn(
    txn: Txn, room_ids: Sequence[str], pattern: str, limit: int, offset: int
) -> tuple[list[RoomMatch], int]:
    """Rooms among `room_ids` whose name or a joined member's name (with pinyin)
    matches the LIKE pattern: name matches first, then by room id; and how many."""
    if not room_ids:
        return [], 0
    marks = ", ".join("?" * len(room_ids))
    txn.execute(
        f"SELECT room_id, name, folded LIKE ? ESCAPE '\\' FROM jwwx_search_room_names"  # noqa: S608
        f" WHERE room_id IN ({marks})",
        (pattern, *room_ids),
    )
    names = {row[0]: (row[1], bool(row[2])) for row in txn.fetchall()}
    txn.execute(
        "SELECT room_id, user_id, displayname FROM jwwx_search_room_members"  # noqa: S608
        f" WHERE room_id IN ({marks}) AND folded LIKE ? ESCAPE '\\'"
        " ORDER BY room_id, user_id",
        (*room_ids, pattern),
    )
    members: dict[str, list[tuple[str, str | None]]] = {}
    for room_id, user_id, shown in txn.fetchall():
        members.setdefault(room_id, []).append((user_id, shown))
    by_name = sorted(r for r, (_n, hit) in names.items() if hit)
    by_member = sorted(r for r in members if r not in by_name)
    ordered = by_name + by_member
    page = [
        RoomMatch(
            room_id,
            names.get(room_id, (None, False))[0],
            tuple(members.get(room_id, ())[:20]),
        )
        for room_id in ordered[offset : offset + limit]
    ]
    return page, len(ordered)


# the sweep (events Synapse purged: retention, purge history, deleted rooms)


def docs_after_txn(txn: Txn, after: int, limit: int) -> list[tuple[int, str]]:
    txn.execute(
        "SELECT stream_ordering, event_id FROM jwwx_search_docs"
        " WHERE stream_ordering > ? ORDER BY stream_ordering LIMIT ?",
        (after, limit),
    )
    return [(int(r[0]), r[1]) for r in txn.fetchall()]


def doc_count_txn(txn: Txn) -> int:
    txn.execute("SELECT COUNT(*) FROM jwwx_search_docs")
    row = txn.fetchone()
    return int(row[0]) if row else 0
