# SPDX-License-Identifier: AGPL-3.0-or-later
"""Each app's broadcast rooms and who belongs in which (jwwx_openapi_broadcast_rooms,
jwwx_openapi_broadcast_members; modules/openapi/broadcast.py)."""

from modules.common.storage import Txn
from modules.directory import public as directory


def rooms_txn(txn: Txn, agentid: int) -> list[str]:
    txn.execute(
        "SELECT room_id FROM jwwx_openapi_broadcast_rooms WHERE agentid = ?"
        " ORDER BY created_ts, room_id",
        (agentid,),
    )
    return [str(r[0]) for r in txn.fetchall()]


def agentid_of_room_txn(txn: Txn, room_id: str) -> int | None:
    txn.execute(
        "SELECT agentid FROM jwwx_openapi_broadcast_rooms WHERE room_id = ?",
        (room_id,),
    )
    row = txn.fetchone()
    return None if row is None else int(row[0])


def add_room_txn(txn: Txn, agentid: int, room_id: str, now: int) -> None:
    txn.execute(
        "INSERT INTO jwwx_openapi_broadcast_rooms (room_id, agentid, created_ts)"
        " VALUES (?, ?, ?)",
        (room_id, agentid, now),
    )


def members_txn(txn: Txn, agentid: int) -> dict[str, tuple[str, bool]]:
    """userid → (room, joined) of everyone who belongs (or is being joined)."""
    txn.execute(
        "SELECT userid, room_id, joined FROM jwwx_openapi_broadcast_members"
        " WHERE agentid = ?",
        (agentid,),
    )
    return {str(r[0]): (str(r[1]), bool(r[2])) for r in txn.fetchall()}


def is_expected_txn(txn: Txn, room_id: str, userid: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_openapi_broadcast_members WHERE room_id = ? AND userid = ?",
        (room_id, userid),
    )
    return txn.fetchone() is not None


def expect_txn(txn: Txn, agentid: int, rows: list[tuple[str, str]]) -> None:
    """Rows (userid, room) for officers about to be joined."""
    txn.executemany(
        "INSERT INTO jwwx_openapi_broadcast_members (agentid, userid, room_id, joined)"
        " VALUES (?, ?, ?, 0) ON CONFLICT (agentid, userid) DO NOTHING",
        [(agentid, u, r) for u, r in rows],
    )


def mark_joined_txn(txn: Txn, agentid: int, userids: list[str]) -> None:
    txn.executemany(
        "UPDATE jwwx_openapi_broadcast_members SET joined = 1"
        " WHERE agentid = ? AND userid = ?",
        [(agentid, u) for u in userids],
    )


def forget_txn(txn: Txn, agentid: int, userids: list[str]) -> None:
    txn.executemany(
        "DELETE FROM jwwx_openapi_broadcast_members WHERE agentid = ? AND userid = ?",
        [(agentid, u) for u in userids],
    )


def joined_count_txn(txn: Txn, agentid: int) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_openapi_broadcast_members"
        " WHERE agentid = ? AND joined = 1",
        (agentid,),
    )
    return int(txn.fetchone()[0])


def range_txn(txn: Txn, members: directory.MemberRange) -> list[str]:
    """Every deliverable member of an app's range."""
    return directory.deliverable_txn(txn, members, None)


# The pool of spare broadcast rooms (modules/openapi/pool.py): rows of the same tables
# under agentid POOL, moved to an app when it claims a room.

POOL = 0


def pool_range_txn(txn: Txn, _channel: object = None) -> list[str]:
    """Every deliverable officer of the directory, in department order."""
    return directory.deliverable_in_tree_order_txn(txn)


def spare_rooms_txn(txn: Txn) -> dict[str, list[str]]:
    """Spare rooms whose recorded officers are all joined: room → its officers."""
    txn.execute(
        "SELECT room_id, userid, joined FROM jwwx_openapi_broadcast_members"
        " WHERE agentid = ?",
        (POOL,),
    )
    rooms: dict[str, list[str]] = {}
    pending: set[str] = set()
    for room_id, userid, joined in txn.fetchall():
        rooms.setdefault(str(room_id), []).append(str(userid))
        if not joined:
            pending.add(str(room_id))
    return {r: sorted(us) for r, us in rooms.items() if r not in pending}


def claim_room_txn(
    txn: Txn, room_id: str, agentid: int, userids: list[str], announce_ts: int | None
) -> bool:
    """Move a spare room and its officers to an app, if it is still spare and holds
    exactly these officers, all joined (False otherwise: changes nothing); its claim
    events are due at `announce_ts` (unless a push sends them first; None: the caller
    sends them now)."""
    txn.execute(
        "SELECT userid, joined FROM jwwx_openapi_broadcast_members"
        " WHERE agentid = ? AND room_id = ?",
        (POOL, room_id),
    )
    rows = txn.fetchall()
    if sorted(str(r[0]) for r in rows) != sorted(userids) or not all(
        r[1] for r in rows
    ):
        return False
    txn.execute(
        "UPDATE jwwx_openapi_broadcast_rooms SET agentid = ?, announce_ts = ?"
        " WHERE room_id = ? AND agentid = ?",
        (agentid, announce_ts, room_id, POOL),
    )
    if txn.rowcount != 1:
        return False
    txn.execute(
        "UPDATE jwwx_openapi_broadcast_members SET agentid = ?"
        " WHERE agentid = ? AND room_id = ?",
        (agentid, POOL, room_id),
    )
    return True


def unclaim_room_txn(txn: Txn, room_id: str, agentid: int) -> None:
    """Give a room back to the pool (its claim's events were refused)."""
    txn.execute(
        "UPDATE jwwx_openapi_broadcast_rooms SET agentid = ?, announce_ts = NULL"
        " WHERE room_id = ? AND agentid = ?",
        (POOL, room_id, agentid),
    )
    txn.execute(
        "UPDATE jwwx_openapi_broadcast_members SET agentid = ?"
        " WHERE agentid = ? AND room_id = ?",
        (POOL, agentid, room_id),
    )


# Claimed, not yet announced (announce_ts: schema/0011_broadcast_announce.sql).


def unannounced_txn(txn: Txn, agentid: int) -> list[str]:
    """The app's rooms whose claim events are not sent (or are being sent)."""
    txn.execute(
        "SELECT room_id FROM jwwx_openapi_broadcast_rooms"
        " WHERE agentid = ? AND announce_ts IS NOT NULL",
        (agentid,),
    )
    return sorted(str(r[0]) for r in txn.fetchall())


def due_announces_txn(txn: Txn, now: int) -> list[tuple[str, int]]:
    """(room, agentid) of claimed rooms whose claim events are due, or whose
    announcer's lease ended."""
    txn.execute(
        "SELECT room_id, agentid FROM jwwx_openapi_broadcast_rooms"
        " WHERE (announce_ts > 0 AND announce_ts <= ?)"
        " OR (announce_ts < 0 AND announce_ts >= ?)"
        " ORDER BY room_id",
        (now, -now),
    )
    return [(str(r[0]), int(r[1])) for r in txn.fetchall()]


def announce_state_txn(txn: Txn, room_id: str) -> int | None:
    """The room's announce_ts (None: announced, or not a claimed room)."""
    txn.execute(
        "SELECT announce_ts FROM jwwx_openapi_broadcast_rooms WHERE room_id = ?",
        (room_id,),
    )
    row = txn.fetchone()
    return None if row is None or row[0] is None else int(row[0])


def take_announce_txn(
    txn: Txn, room_id: str, now: int, lease_until: int, due_only: bool
) -> bool:
    """Become the room's one announcer until `lease_until`: a push may take any room
    not announced (nor being announced); the timed announce (`due_only`) a due one, or
    one whose announcer's lease ended. False: someone else announces or did."""
    if due_only:
        txn.execute(
            "UPDATE jwwx_openapi_broadcast_rooms SET announce_ts = ?"
            " WHERE room_id = ? AND ((announce_ts > 0 AND announce_ts <= ?)"
            " OR (announce_ts < 0 AND announce_ts >= ?))",
            (-lease_until, room_id, now, -now),
        )
    else:
        txn.execute(
            "UPDATE jwwx_openapi_broadcast_rooms SET announce_ts = ?"
            " WHERE room_id = ? AND announce_ts > 0",
            (-lease_until, room_id),
        )
    return bool(txn.rowcount == 1)


def end_announce_txn(
    txn: Txn, room_id: str, lease_until: int, again_at: int | None
) -> None:
    """The announcer holding `lease_until` is done: announced (`again_at` None), or
    failed (due again at `again_at`)."""
    txn.execute(
        "UPDATE jwwx_openapi_broadcast_rooms SET announce_ts = ?"
        " WHERE room_id = ? AND announce_ts = ?",
        (again_at, room_id, -lease_until),
    )


def pool_counts_txn(txn: Txn) -> dict[str, int]:
    """The pool's coverage: deliverable officers of the directory, officers joined to
    a spare room, officers still being joined, spare rooms."""
    sql, args = directory.deliverable_query(
        directory.MemberRange(frozenset(), (), everything=True)
    )
    txn.execute(f"SELECT COUNT(*) FROM ({sql}) AS d", args)  # noqa: S608
    deliverable = int(txn.fetchone()[0])
    txn.execute(
        "SELECT joined, COUNT(*) FROM jwwx_openapi_broadcast_members"
        " WHERE agentid = ? GROUP BY joined",
        (POOL,),
    )
    by_state = {int(r[0]): int(r[1]) for r in txn.fetchall()}
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_openapi_broadcast_rooms WHERE agentid = ?", (POOL,)
    )
    return {
        "deliverable": deliverable,
        "covered": by_state.get(1, 0),
        "joining": by_state.get(0, 0),
        "spare_rooms": int(txn.fetchone()[0]),
    }
