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
