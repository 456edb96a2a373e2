# SPDX-License-Identifier: AGPL-3.0-or-later
"""Each account's rooms and who belongs in which (jwwx_pubacct_rooms,
jwwx_pubacct_members): the RoomStore of modules.openapi.public.Broadcasts, keyed by the
account id."""

from modules.common.storage import Txn, select_in


def rooms_txn(txn: Txn, key: int) -> list[str]:
    txn.execute(
        "SELECT room_id FROM jwwx_pubacct_rooms WHERE account_id = ?"
        " ORDER BY created_ts, room_id",
        (key,),
    )
    return [str(r[0]) for r in txn.fetchall()]


def agentid_of_room_txn(txn: Txn, room_id: str) -> int | None:
    """The account whose room this is (None: not an account's room)."""
    txn.execute(
        "SELECT account_id FROM jwwx_pubacct_rooms WHERE room_id = ?", (room_id,)
    )
    row = txn.fetchone()
    return None if row is None else int(row[0])


def add_room_txn(txn: Txn, key: int, room_id: str, now: int) -> None:
    txn.execute(
        "INSERT INTO jwwx_pubacct_rooms (room_id, account_id, created_ts)"
        " VALUES (?, ?, ?)",
        (room_id, key, now),
    )


def members_txn(txn: Txn, key: int) -> dict[str, tuple[str, bool]]:
    txn.execute(
        "SELECT userid, room_id, joined FROM jwwx_pubacct_members WHERE account_id = ?",
        (key,),
    )
    return {str(r[0]): (str(r[1]), bool(r[2])) for r in txn.fetchall()}


def room_of_txn(txn: Txn, key: int, userid: str) -> tuple[str, bool] | None:
    """The officer's room of the account and whether he has joined it."""
    txn.execute(
        "SELECT room_id, joined FROM jwwx_pubacct_members"
        " WHERE account_id = ? AND userid = ?",
        (key, userid),
    )
    row = txn.fetchone()
    return None if row is None else (str(row[0]), bool(row[1]))


def is_expected_txn(txn: Txn, room_id: str, userid: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_pubacct_members WHERE room_id = ? AND userid = ?",
        (room_id, userid),
    )
    return txn.fetchone() is not None


def expect_txn(txn: Txn, key: int, rows: list[tuple[str, str]]) -> None:
    txn.executemany(
        "INSERT INTO jwwx_pubacct_members (account_id, userid, room_id, joined)"
        " VALUES (?, ?, ?, 0) ON CONFLICT (account_id, userid) DO NOTHING",
        [(key, u, r) for u, r in rows],
    )


def mark_joined_txn(txn: Txn, key: int, userids: list[str]) -> None:
    txn.executemany(
        "UPDATE jwwx_pubacct_members SET joined = 1 WHERE account_id = ? AND userid = ?",
        [(key, u) for u in userids],
    )


def forget_txn(txn: Txn, key: int, userids: list[str]) -> None:
    txn.executemany(
        "DELETE FROM jwwx_pubacct_members WHERE account_id = ? AND userid = ?",
        [(key, u) for u in userids],
    )


def joined_count_txn(txn: Txn, key: int) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_pubacct_members WHERE account_id = ? AND joined = 1",
        (key,),
    )
    return int(txn.fetchone()[0])


def room_sizes_txn(txn: Txn, key: int) -> dict[str, int]:
    """room → joined members, for a push's delivered count."""
    txn.execute(
        "SELECT room_id, COUNT(*) FROM jwwx_pubacct_members"
        " WHERE account_id = ? AND joined = 1 GROUP BY room_id",
        (key,),
    )
    return {str(r[0]): int(r[1]) for r in txn.fetchall()}


def is_member_txn(txn: Txn, key: int, userid: str) -> bool:
    txn.execute(
        "SELECT 1 FROM jwwx_pubacct_members WHERE account_id = ? AND userid = ?",
        (key, userid),
    )
    return txn.fetchone() is not None


def members_among_txn(txn: Txn, key: int, userids: list[str]) -> set[str]:
    """Which of these officers belong to the account (subscribers)."""
    rows = select_in(
        txn,
        "SELECT userid FROM jwwx_pubacct_members"
        " WHERE account_id = ? AND userid IN ({marks})",
        userids,
        (key,),
    )
    return {str(r[0]) for r in rows}


def accounts_of_member_txn(txn: Txn, userid: str) -> list[int]:
    txn.execute(
        "SELECT account_id FROM jwwx_pubacct_members WHERE userid = ?", (userid,)
    )
    return sorted(int(r[0]) for r in txn.fetchall())
