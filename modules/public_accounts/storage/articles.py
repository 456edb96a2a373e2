# SPDX-License-Identifier: AGPL-3.0-or-later
"""Articles, pushes and the events pushes left in the rooms (jwwx_pubacct_articles,
jwwx_pubacct_pushes, jwwx_pubacct_push_events)."""

import json
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn
from modules.public_accounts.storage import next_id_txn

_ARTICLE = (
    "id, account_id, title, cover, digest, author, body, state, push_id, created_by,"
    " created_ts, updated_ts, published_ts, withdrawn_ts"
)
ARTICLE_FIELDS = tuple(c.strip() for c in _ARTICLE.split(","))
EDITABLE = ("title", "cover", "digest", "author", "body")
_PUSH = (
    "id, account_id, article_ids, state, publish_at, sent_ts, delivered, created_by,"
    " created_ts"
)
PUSH_FIELDS = tuple(c.strip() for c in _PUSH.split(","))


@dataclass(frozen=True)
class Article:
    id: int
    account_id: int
    title: str
    cover: str | None
    digest: str
    author: str
    body: str
    state: str  # draft, published, withdrawn
    push_id: int | None
    created_by: str
    created_ts: int
    updated_ts: int
    published_ts: int | None
    withdrawn_ts: int | None


@dataclass(frozen=True)
class Push:
    id: int
    account_id: int
    article_ids: tuple[int, ...]
    state: str  # scheduled, sending, sent, withdrawn
    publish_at: int
    sent_ts: int | None
    delivered: int
    created_by: str
    created_ts: int


def _push(row: Any) -> Push:
    values = dict(zip(PUSH_FIELDS, row, strict=True))
    values["article_ids"] = tuple(json.loads(values["article_ids"]))
    return Push(**values)


def get_article_txn(txn: Txn, article_id: int) -> Article | None:
    txn.execute(
        f"SELECT {_ARTICLE} FROM jwwx_pubacct_articles WHERE id = ?", (article_id,)
    )
    row = txn.fetchone()
    return None if row is None else Article(*row)


def list_articles_txn(txn: Txn, account_id: int) -> list[Article]:
    txn.execute(
        f"SELECT {_ARTICLE} FROM jwwx_pubacct_articles WHERE account_id = ?"
        " ORDER BY id DESC",
        (account_id,),
    )
    return [Article(*r) for r in txn.fetchall()]


def insert_article_txn(txn: Txn, fields: dict[str, Any]) -> int:
    article_id = next_id_txn(txn, "articles")
    values = {**fields, "id": article_id}
    txn.execute(
        f"INSERT INTO jwwx_pubacct_articles ({_ARTICLE})"
        f" VALUES ({', '.join('?' * len(ARTICLE_FIELDS))})",
        tuple(values.get(n) for n in ARTICLE_FIELDS),
    )
    return article_id


def update_article_txn(txn: Txn, article_id: int, changes: dict[str, Any]) -> None:
    names = sorted(changes)
    txn.execute(
        "UPDATE jwwx_pubacct_articles SET "
        + ", ".join(f"{n} = ?" for n in names)
        + " WHERE id = ?",
        (*(changes[n] for n in names), article_id),
    )


def delete_article_txn(txn: Txn, article_id: int) -> None:
    txn.execute("DELETE FROM jwwx_pubacct_articles WHERE id = ?", (article_id,))
    txn.execute("DELETE FROM jwwx_pubacct_reads WHERE article_id = ?", (article_id,))


# Pushes.


def insert_push_txn(
    txn: Txn,
    account_id: int,
    article_ids: list[int],
    publish_at: int,
    by: str,
    now: int,
    state: str = "scheduled",
) -> int:
    """A push, scheduled (or `sending`: sent by the caller now, never claimed by the
    scheduler); its articles are tied to it (still drafts until it is sent)."""
    push_id = next_id_txn(txn, "pushes")
    txn.execute(
        f"INSERT INTO jwwx_pubacct_pushes ({_PUSH})"
        " VALUES (?, ?, ?, ?, ?, NULL, 0, ?, ?)",
        (push_id, account_id, json.dumps(article_ids), state, publish_at, by, now),
    )
    txn.executemany(
        "UPDATE jwwx_pubacct_articles SET push_id = ? WHERE id = ?",
        [(push_id, a) for a in article_ids],
    )
    return push_id


def get_push_txn(txn: Txn, push_id: int) -> Push | None:
    txn.execute(f"SELECT {_PUSH} FROM jwwx_pubacct_pushes WHERE id = ?", (push_id,))
    row = txn.fetchone()
    return None if row is None else _push(row)


def list_pushes_txn(txn: Txn, account_id: int) -> list[Push]:
    txn.execute(
        f"SELECT {_PUSH} FROM jwwx_pubacct_pushes WHERE account_id = ? ORDER BY id DESC",
        (account_id,),
    )
    return [_push(r) for r in txn.fetchall()]


def claim_due_txn(txn: Txn, now: int) -> list[Push]:
    """Scheduled pushes whose time has come, marked sending (one claimer wins)."""
    txn.execute(
        f"SELECT {_PUSH} FROM jwwx_pubacct_pushes"
        " WHERE state = 'scheduled' AND publish_at <= ? ORDER BY publish_at, id",
        (now,),
    )
    due = [_push(r) for r in txn.fetchall()]
    txn.executemany(
        "UPDATE jwwx_pubacct_pushes SET state = 'sending' WHERE id = ?",
        [(p.id,) for p in due],
    )
    return due


def mark_sent_txn(txn: Txn, push: Push, delivered: int, now: int) -> None:
    txn.execute(
        "UPDATE jwwx_pubacct_pushes SET state = 'sent', sent_ts = ?, delivered = ?"
        " WHERE id = ?",
        (now, delivered, push.id),
    )
    txn.executemany(
        "UPDATE jwwx_pubacct_articles SET state = 'published', published_ts = ?"
        " WHERE id = ? AND state = 'draft'",
        [(now, a) for a in push.article_ids],
    )


def cancel_push_txn(txn: Txn, push: Push) -> None:
    """A scheduled push called off: its articles are drafts again."""
    txn.execute("DELETE FROM jwwx_pubacct_pushes WHERE id = ?", (push.id,))
    txn.executemany(
        "UPDATE jwwx_pubacct_articles SET push_id = NULL WHERE id = ?",
        [(a,) for a in push.article_ids],
    )


def mark_withdrawn_txn(txn: Txn, push: Push, now: int, held_until: int) -> bool:
    """Withdrawn, its copies to remove (removal_pending until every one is gone), the
    removal held by the caller until held_until (a lease: no other process removes
    them meanwhile). False if the push was not sent (e.g. withdrawn meanwhile by
    another request): nothing changed."""
    txn.execute(
        "UPDATE jwwx_pubacct_pushes SET state = 'withdrawn', removal_pending = 1,"
        " removal_attempts = 0, removal_next_ts = ? WHERE id = ? AND state = 'sent'",
        (held_until, push.id),
    )
    if txn.rowcount != 1:
        return False
    txn.executemany(
        "UPDATE jwwx_pubacct_articles SET state = 'withdrawn', withdrawn_ts = ?"
        " WHERE id = ?",
        [(now, a) for a in push.article_ids],
    )
    return True


def add_events_txn(
    txn: Txn, push_id: int, kind: str, events: list[tuple[str, str]]
) -> None:
    """(room, event_id) of cards or edits a push left."""
    txn.executemany(
        "INSERT INTO jwwx_pubacct_push_events (push_id, room_id, event_id, kind)"
        " VALUES (?, ?, ?, ?)",
        [(push_id, r, e, kind) for r, e in events],
    )


def events_txn(
    txn: Txn, push_id: int, kind: str | None = None
) -> list[tuple[str, str]]:
    sql = "SELECT room_id, event_id FROM jwwx_pubacct_push_events WHERE push_id = ?"
    args: tuple[Any, ...] = (push_id,)
    if kind is not None:
        sql += " AND kind = ?"
        args = (push_id, kind)
    txn.execute(sql + " ORDER BY room_id, event_id", args)
    return [(str(r[0]), str(r[1])) for r in txn.fetchall()]


def events_to_remove_txn(txn: Txn, push_id: int) -> list[tuple[str, str]]:
    """(room, event) of the push's copies not yet redacted."""
    txn.execute(
        "SELECT room_id, event_id FROM jwwx_pubacct_push_events"
        " WHERE push_id = ? AND removed_ts IS NULL ORDER BY room_id, event_id",
        (push_id,),
    )
    return [(str(r[0]), str(r[1])) for r in txn.fetchall()]


def mark_removed_txn(
    txn: Txn,
    push_id: int,
    event_ids: list[str],
    now: int,
    retry_after_ms: int,
    held_until: int,
) -> int:
    """Mark these copies removed; the push done when none is left, else tried again
    after retry_after_ms. The removal's schedule is only changed while the caller
    still holds it (held_until unchanged): a holder whose lease lapsed leaves it to
    the process that took it over. The number left."""
    txn.executemany(
        "UPDATE jwwx_pubacct_push_events SET removed_ts = ? WHERE event_id = ?",
        [(now, e) for e in event_ids],
    )
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_pubacct_push_events"
        " WHERE push_id = ? AND removed_ts IS NULL",
        (push_id,),
    )
    left = int(txn.fetchone()[0])
    if left:
        txn.execute(
            "UPDATE jwwx_pubacct_pushes SET removal_attempts = removal_attempts + 1,"
            " removal_next_ts = ? WHERE id = ? AND removal_next_ts = ?",
            (now + retry_after_ms, push_id, held_until),
        )
    else:
        txn.execute(
            "UPDATE jwwx_pubacct_pushes SET removal_pending = 0 WHERE id = ?",
            (push_id,),
        )
    return left


def claim_removals_txn(txn: Txn, now: int, held_until: int) -> list[tuple[Push, int]]:
    """Withdrawn pushes with copies left whose retry time has come (or whose holder's
    lease lapsed), each now held by the caller until held_until, and their attempts
    so far. Run as a serialized write: one claimer wins each push."""
    txn.execute(
        f"SELECT {_PUSH}, removal_attempts, removal_next_ts FROM jwwx_pubacct_pushes"
        " WHERE state = 'withdrawn' AND removal_pending = 1 AND removal_next_ts <= ?"
        " ORDER BY removal_next_ts, id",
        (now,),
    )
    claimed = []
    for row in txn.fetchall():
        push, attempts, due = _push(row[:-2]), int(row[-2]), int(row[-1])
        txn.execute(
            "UPDATE jwwx_pubacct_pushes SET removal_next_ts = ?"
            " WHERE id = ? AND removal_pending = 1 AND removal_next_ts = ?",
            (held_until, push.id, due),
        )
        if txn.rowcount == 1:
            claimed.append((push, attempts))
    return claimed


def renew_removal_txn(txn: Txn, push_id: int, held_until: int, new_until: int) -> bool:
    """Extend the caller's hold on a push's removal; False if it lapsed and another
    process took it over (or it is done)."""
    txn.execute(
        "UPDATE jwwx_pubacct_pushes SET removal_next_ts = ?"
        " WHERE id = ? AND removal_pending = 1 AND removal_next_ts = ?",
        (new_until, push_id, held_until),
    )
    return txn.rowcount == 1


def preview_room_txn(txn: Txn, account_id: int, userid: str) -> str | None:
    txn.execute(
        "SELECT room_id FROM jwwx_pubacct_preview_rooms"
        " WHERE account_id = ? AND userid = ?",
        (account_id, userid),
    )
    row = txn.fetchone()
    return None if row is None else str(row[0])


def set_preview_room_txn(txn: Txn, account_id: int, userid: str, room_id: str) -> None:
    txn.execute(
        "INSERT INTO jwwx_pubacct_preview_rooms (account_id, userid, room_id)"
        " VALUES (?, ?, ?) ON CONFLICT (account_id, userid)"
        " DO UPDATE SET room_id = excluded.room_id",
        (account_id, userid, room_id),
    )
