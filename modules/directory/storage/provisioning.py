# SPDX-License-Identifier: AGPL-3.0-or-later
"""Account provisioning: jobs, per-member account state, initial passwords, mail outbox."""

from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn
from modules.common.synapse.tables import password_state_sql

# Members whose Matrix account still has to be created, oldest job first.
PENDING, CREATED, FAILED = "pending", "created", "failed"
JOB_CHUNK = 500  # members per UPDATE when a job is created


@dataclass(frozen=True)
class PendingAccount:
    userid: str
    name: str
    email: str | None
    enabled: bool
    attempts: int
    avatar: str | None


def create_job_txn(
    txn: Txn, kind: str, userids: list[str], admin: str, now: int
) -> int:
    txn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_dir_jobs")
    job_id = int(txn.fetchone()[0])
    txn.execute(
        "INSERT INTO jwwx_dir_jobs (id, kind, total, created_by, created_ts) VALUES (?, ?, ?, ?, ?)",
        (job_id, kind, len(userids), admin, now),
    )
    # A few statements for a whole import (55,000 members: 110, not 55,000).
    for start in range(0, len(userids), JOB_CHUNK):
        chunk = userids[start : start + JOB_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        txn.execute(
            f"UPDATE jwwx_dir_members SET provision_job = ? WHERE userid IN ({marks})",
            [job_id, *chunk],
        )
    return job_id


def job_progress_txn(txn: Txn, job_id: int) -> dict[str, Any] | None:
    txn.execute(
        "SELECT kind, total, created_by, created_ts FROM jwwx_dir_jobs WHERE id = ?",
        (job_id,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    txn.execute(
        "SELECT account_state, COUNT(*) FROM jwwx_dir_members WHERE provision_job = ?"
        " GROUP BY account_state",
        (job_id,),
    )
    states = {state: int(count) for state, count in txn.fetchall()}
    # Able to log in: the account exists, or the initial password was issued (the
    # account is then created at the first login with it, provisioning.py).
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_members WHERE provision_job = ?"
        " AND (account_state = ? OR credentials_ts IS NOT NULL)",
        (job_id, CREATED),
    )
    login_ready = int(txn.fetchone()[0])
    return {
        "job_id": job_id,
        "kind": row[0],
        "total": int(row[1]),
        "created_by": row[2],
        "created_ts": int(row[3]),
        "created": states.get(CREATED, 0),
        "failed": states.get(FAILED, 0),
        "pending": states.get(PENDING, 0),
        "finished": states.get(PENDING, 0) == 0,
        "login_ready": login_ready,
    }


def list_jobs_txn(txn: Txn, limit: int) -> list[int]:
    txn.execute("SELECT id FROM jwwx_dir_jobs ORDER BY id DESC LIMIT ?", (limit,))
    return [int(r[0]) for r in txn.fetchall()]


def pending_accounts_txn(txn: Txn, limit: int) -> list[PendingAccount]:
    txn.execute(
        "SELECT userid, name, email, enabled, account_attempts, avatar FROM jwwx_dir_members"
        " WHERE account_state = ? ORDER BY provision_job, userid LIMIT ?",
        (PENDING, limit),
    )
    return [
        PendingAccount(r[0], r[1], r[2], bool(r[3]), int(r[4]), r[5])
        for r in txn.fetchall()
    ]


def unissued_accounts_txn(txn: Txn, after: str, limit: int) -> list[PendingAccount]:
    """Pending members whose initial password is not issued yet, by userid after
    `after` (a walk along the primary key: no sort of every pending member)."""
    txn.execute(
        "SELECT userid, name, email, enabled, account_attempts, avatar FROM jwwx_dir_members"
        " WHERE userid > ? AND account_state = ? AND credentials_ts IS NULL"
        " ORDER BY userid LIMIT ?",
        (after, PENDING, limit),
    )
    return [
        PendingAccount(r[0], r[1], r[2], bool(r[3]), int(r[4]), r[5])
        for r in txn.fetchall()
    ]


def issued_account_txn(txn: Txn, userid: str) -> PendingAccount | None:
    """The member whose account is still to be created (pending or failed) and whose
    initial password was issued: what a first login may create."""
    txn.execute(
        "SELECT userid, name, email, enabled, account_attempts, avatar FROM jwwx_dir_members"
        " WHERE userid = ? AND account_state <> ? AND credentials_ts IS NOT NULL",
        (userid, CREATED),
    )
    r = txn.fetchone()
    return (
        None
        if r is None
        else PendingAccount(r[0], r[1], r[2], bool(r[3]), int(r[4]), r[5])
    )


def account_created_txn(txn: Txn, userid: str) -> bool:
    """The member exists and its account is marked created."""
    txn.execute(
        "SELECT 1 FROM jwwx_dir_members WHERE userid = ? AND account_state = ?",
        (userid, CREATED),
    )
    return txn.fetchone() is not None


def credentials_issued_txn(txn: Txn, userid: str) -> bool:
    txn.execute(
        "SELECT credentials_ts FROM jwwx_dir_members WHERE userid = ?", (userid,)
    )
    row = txn.fetchone()
    return bool(row and row[0] is not None)


@dataclass(frozen=True)
class Credentials:
    """An issued initial password (its keyed hash) and the sealed e-mail carrying it."""

    userid: str
    user_id: str
    mac: str
    mail: tuple[str, str, str] | None  # (to, subject, sealed body)


def issue_credentials_txn(txn: Txn, issued: list[Credentials], now: int) -> None:
    """Many initial passwords in one transaction and a handful of statements (an
    import's members in a few transactions; at most a few thousand parameters each)."""
    if not issued:
        return
    marks = ", ".join("?" for _ in issued)
    user_ids = [c.user_id for c in issued]
    txn.execute(
        f"DELETE FROM jwwx_dir_initial_passwords WHERE user_id IN ({marks})", user_ids
    )
    txn.execute(
        "INSERT INTO jwwx_dir_initial_passwords (user_id, mac, created_ts) VALUES "
        + ", ".join("(?, ?, ?)" for _ in issued),
        [v for c in issued for v in (c.user_id, c.mac, now)],
    )
    mails = [(c.userid, c.mail) for c in issued if c.mail is not None]
    if mails:
        txn.execute("SELECT COALESCE(MAX(id), 0) FROM jwwx_dir_mail_outbox")
        last = int(txn.fetchone()[0])
        txn.execute(
            "INSERT INTO jwwx_dir_mail_outbox (id, userid, to_address, subject, sealed_body,"
            " state, attempts, next_attempt_ts, created_ts) VALUES "
            + ", ".join("(?, ?, ?, ?, ?, ?, 0, ?, ?)" for _ in mails),
            [
                v
                for i, (userid, mail) in enumerate(mails, 1)
                for v in (last + i, userid, *mail, MAIL_PENDING, now, now)
            ],
        )
    txn.execute(
        f"UPDATE jwwx_dir_members SET credentials_ts = ? WHERE userid IN ({marks})",
        [now, *(c.userid for c in issued)],
    )


def pending_account_count_txn(txn: Txn) -> int:
    """The provisioning backlog (jwwx_job_backlog{task="provisioning"})."""
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_members WHERE account_state = ?", (PENDING,)
    )
    return int(txn.fetchone()[0])


def mark_account_txn(txn: Txn, userid: str, state: str, error: str | None) -> None:
    txn.execute(
        "UPDATE jwwx_dir_members SET account_state = ?, account_error = ?,"
        " account_attempts = account_attempts + 1 WHERE userid = ?",
        (state, error, userid),
    )


def failed_accounts_txn(txn: Txn, limit: int) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT userid, account_error, account_attempts FROM jwwx_dir_members"
        " WHERE account_state = ? ORDER BY userid LIMIT ?",
        (FAILED, limit),
    )
    return [
        {"userid": r[0], "error": r[1], "attempts": int(r[2])} for r in txn.fetchall()
    ]


def retry_failed_accounts_txn(txn: Txn) -> int:
    txn.execute(
        "UPDATE jwwx_dir_members SET account_state = ?, account_attempts = 0 WHERE account_state = ?",
        (PENDING, FAILED),
    )
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_members WHERE account_state = ?", (PENDING,)
    )
    return int(txn.fetchone()[0])


# Initial passwords (keyed hashes only).


def set_initial_password_txn(txn: Txn, user_id: str, mac: str, now: int) -> None:
    txn.execute("DELETE FROM jwwx_dir_initial_passwords WHERE user_id = ?", (user_id,))
    txn.execute(
        "INSERT INTO jwwx_dir_initial_passwords (user_id, mac, created_ts) VALUES (?, ?, ?)",
        (user_id, mac, now),
    )


def get_initial_password_txn(txn: Txn, user_id: str) -> str | None:
    txn.execute(
        "SELECT mac FROM jwwx_dir_initial_passwords WHERE user_id = ?", (user_id,)
    )
    row = txn.fetchone()
    return row[0] if row else None


def initial_password_part_sql() -> str:
    """The initial-password lookup as a SELECT for another module's read (one `?`, the
    user id): at most one row (a: the MAC, b: NULL, n: the account's password_state_sql),
    none when no initial password is issued."""
    return (
        "SELECT initial.mac AS a, NULL AS b, "
        + password_state_sql("initial.user_id")
        + " AS n FROM jwwx_dir_initial_passwords AS initial WHERE initial.user_id = ?"
    )


def delete_initial_password_txn(txn: Txn, user_id: str) -> None:
    txn.execute("DELETE FROM jwwx_dir_initial_passwords WHERE user_id = ?", (user_id,))


# Mail outbox.

MAIL_PENDING, MAIL_SENT, MAIL_FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class OutgoingMail:
    id: int
    userid: str
    to_address: str
    subject: str
    sealed_body: str
    attempts: int


def enqueue_mail_txn(
    txn: Txn, userid: str, to_address: str, subject: str, sealed_body: str, now: int
) -> int:
    txn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM jwwx_dir_mail_outbox")
    mail_id = int(txn.fetchone()[0])
    txn.execute(
        "INSERT INTO jwwx_dir_mail_outbox (id, userid, to_address, subject, sealed_body, state,"
        " attempts, next_attempt_ts, created_ts) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
        (mail_id, userid, to_address, subject, sealed_body, MAIL_PENDING, now, now),
    )
    return mail_id


def due_mails_txn(txn: Txn, now: int, limit: int) -> list[OutgoingMail]:
    txn.execute(
        "SELECT id, userid, to_address, subject, sealed_body, attempts FROM jwwx_dir_mail_outbox"
        " WHERE state = ? AND next_attempt_ts <= ? ORDER BY next_attempt_ts, id LIMIT ?",
        (MAIL_PENDING, now, limit),
    )
    return [
        OutgoingMail(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]))
        for r in txn.fetchall()
    ]


def queued_mail_count_txn(txn: Txn) -> int:
    """The mail backlog (jwwx_job_backlog{task="mail"})."""
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_mail_outbox WHERE state = ?", (MAIL_PENDING,)
    )
    return int(txn.fetchone()[0])


def mark_mail_sent_txn(txn: Txn, mail_id: int, now: int) -> None:
    # The body held a password: once delivered, it is not kept.
    txn.execute(
        "UPDATE jwwx_dir_mail_outbox SET state = ?, sent_ts = ?, attempts = attempts + 1,"
        " sealed_body = '', last_error = NULL WHERE id = ?",
        (MAIL_SENT, now, mail_id),
    )


def mark_mail_failed_attempt_txn(
    txn: Txn, mail_id: int, error: str, next_attempt_ts: int, give_up: bool
) -> None:
    txn.execute(
        "UPDATE jwwx_dir_mail_outbox SET state = ?, attempts = attempts + 1, last_error = ?,"
        " next_attempt_ts = ? WHERE id = ?",
        (
            MAIL_FAILED if give_up else MAIL_PENDING,
            error[:500],
            next_attempt_ts,
            mail_id,
        ),
    )


def list_mails_txn(txn: Txn, state: str | None, limit: int) -> list[dict[str, Any]]:
    where, args = ("WHERE state = ?", [state]) if state else ("", [])
    txn.execute(
        "SELECT id, userid, to_address, subject, state, attempts, last_error, created_ts, sent_ts"
        f" FROM jwwx_dir_mail_outbox {where} ORDER BY id DESC LIMIT ?",
        (*args, limit),
    )
    keys = (
        "id",
        "userid",
        "to",
        "subject",
        "state",
        "attempts",
        "last_error",
        "created_ts",
        "sent_ts",
    )
    return [dict(zip(keys, row, strict=True)) for row in txn.fetchall()]


def retry_failed_mails_txn(txn: Txn, now: int) -> int:
    txn.execute(
        "UPDATE jwwx_dir_mail_outbox SET state = ?, attempts = 0, next_attempt_ts = ? WHERE state = ?",
        (MAIL_PENDING, now, MAIL_FAILED),
    )
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_dir_mail_outbox WHERE state = ?", (MAIL_PENDING,)
    )
    return int(txn.fetchone()[0])
