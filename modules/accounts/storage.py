# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of modules.accounts (`?` placeholders; run through api.run_db_interaction)."""

import secrets
from dataclasses import dataclass
from typing import Any

from modules.common.storage import Txn, batch, insert_rows
from modules.common.synapse.database import execute_prepared
from modules.common.synapse.tables import live_device_sql

USER, IP = "user", "ip"
FOREVER = 2**62  # locked_until_ts of a lock that only an admin releases

LOG_COLUMNS = (
    "id",
    "ts",
    "kind",
    "user_id",
    "identifier",
    "login_type",
    "ip",
    "device_id",
    "user_agent",
    "platform",
    "result",
    "errcode",
    "detail",
)


@dataclass(frozen=True)
class LogEntry:
    ts: int
    kind: str
    user_id: str | None
    identifier: str | None
    login_type: str | None
    ip: str | None
    device_id: str | None
    user_agent: str | None
    platform: str | None
    result: str
    errcode: str | None = None
    detail: str | None = None


def _clip(value: str | None, limit: int = 255) -> str | None:
    return None if value is None else value[:limit]


_LOG_INSERT = (
    "INSERT INTO jwwx_acc_login_log (ts, kind, user_id, identifier, login_type, ip,"
    " device_id, user_agent, platform, result, errcode, detail)"
)


def _log_row(e: LogEntry) -> tuple[Any, ...]:
    return (
        e.ts,
        e.kind,
        e.user_id,
        _clip(e.identifier),
        _clip(e.login_type, 64),
        _clip(e.ip, 64),
        _clip(e.device_id),
        _clip(e.user_agent, 512),
        e.platform,
        e.result,
        e.errcode,
        _clip(e.detail, 500),
    )


def add_log_txn(txn: Txn, e: LogEntry) -> int:
    txn.execute(
        _LOG_INSERT + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        _log_row(e),
    )
    return int(txn.fetchone()[0])


def add_logs_txn(txn: Txn, entries: list[LogEntry]) -> None:
    """Many entries, ids in their order, in one statement."""
    insert_rows(txn, _LOG_INSERT, [_log_row(e) for e in entries])


def finish_logs_txn(txn: Txn, rows: list[tuple[int, str, str | None]]) -> None:
    """The result and device of entries written before (log id, result, device id):
    one round trip."""
    batch(
        txn,
        "UPDATE jwwx_acc_login_log SET result = ?, device_id = ? WHERE id = ?",
        [(result, _clip(device_id), log_id) for log_id, result, device_id in rows],
    )


def list_log_txn(
    txn: Txn, filters: dict[str, str], before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Newest first; `before_id` pages on (the last id of the previous page)."""
    equals: dict[str, Any] = {
        column: filters[column]
        for column in ("user_id", "ip", "result", "kind", "device_id")
        if column in filters
    }
    return _newest_first_txn(
        txn, "jwwx_acc_login_log", LOG_COLUMNS, equals, before_id, limit
    )


def _newest_first_txn(
    txn: Txn,
    table: str,
    columns: tuple[str, ...],
    equals: dict[str, Any],
    before_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """One page of rows by descending id; `equals` names trusted column names only."""
    where = [f"{column} = ?" for column in equals]
    args: list[Any] = list(equals.values())
    if before_id is not None:
        where.append("id < ?")
        args.append(before_id)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    txn.execute(
        f"SELECT {', '.join(columns)} FROM {table} {clause} ORDER BY id DESC LIMIT ?",
        (*args, limit),
    )
    return [dict(zip(columns, row, strict=True)) for row in txn.fetchall()]


def prune_log_txn(txn: Txn, older_than_ts: int) -> None:
    txn.execute("DELETE FROM jwwx_acc_login_log WHERE ts < ?", (older_than_ts,))


# What a login reads before its answer, in one statement (issue 17, item 4).


@dataclass
class LoginRead:
    """An account's login state: `locked_until` is its active lock, else its IP
    address's; `second_factor` (asked with `mfa`): TOTP confirmed or an active device
    key; `bound_device`: the device the key `key_id` is bound to; `sessions`
    (device_id -> (platform, login_ts)) and `live` (those whose device still exists)
    when asked; `earlier`: the distinct (ip, user_agent) pairs of up to `history`
    earlier successful logins, the most recently used first."""

    locked_until: int | None = None
    second_factor: bool = False
    bound_device: str | None = None
    sessions: dict[str, tuple[str, int]] | None = None
    live: set[str] | None = None
    earlier: list[tuple[str | None, str | None]] | None = None
    # The row (a, b, n) of the `extra` part asked by the caller, None if it had none.
    extra: tuple[Any, Any, Any] | None = None


def login_read_txn(
    txn: Txn,
    user_id: str,
    *,
    now: int | None = None,
    ip: str | None = None,
    mfa: bool = False,
    key_id: str | None = None,
    sessions: bool = False,
    history: int = 0,
    before_log_id: int = 2**62,
    extra: tuple[str, tuple[Any, ...]] | None = None,
) -> LoginRead:
    """One round trip for every part asked (`now` asks for the locks): each part is an
    index lookup, tagged by its first column. `extra`: another module's SELECT of
    columns a, b, n with its arguments (the directory's initial-password lookup), of at
    most one row, read in the same statement."""
    parts: list[str] = []
    args: list[Any] = []
    if extra is not None:
        parts.append(f"SELECT 'x' AS k, a, b, n FROM ({extra[0]}) AS extra_part")
        args += list(extra[1])
    if now is not None:
        lock = (
            "SELECT {tag} AS k, NULL AS a, NULL AS b, locked_until_ts AS n"
            " FROM jwwx_acc_failures WHERE scope = ? AND subject = ?"
            " AND locked_ts IS NOT NULL"
        )
        parts.append(lock.format(tag="'u'"))
        args += [USER, user_id]
        if ip:
            parts.append(lock.format(tag="'i'"))
            args += [IP, ip]
    if mfa:
        parts.append(
            "SELECT 't', NULL, NULL, 1 WHERE EXISTS (SELECT 1 FROM jwwx_acc_totp"
            " WHERE user_id = ? AND confirmed_ts IS NOT NULL) OR EXISTS (SELECT 1"
            " FROM jwwx_acc_device_keys WHERE user_id = ? AND revoked_ts IS NULL)"
        )
        args += [user_id, user_id]
    if key_id is not None:
        parts.append(
            "SELECT 'd', device_id, NULL, NULL FROM jwwx_acc_device_keys"
            " WHERE user_id = ? AND key_id = ?"
        )
        args += [user_id, key_id]
    if sessions:
        live = live_device_sql("s.user_id", "s.device_id")
        parts.append(
            f"SELECT CASE WHEN {live} THEN 'S' ELSE 's' END, s.device_id, s.platform,"
            " s.login_ts FROM jwwx_acc_sessions AS s WHERE s.user_id = ?"
        )
        args.append(user_id)
    if history:
        # The distinct (ip, user agent) pairs of those logins (what the new-place check
        # compares): an officer's year of logins from one phone is one row, not 365.
        parts.append(
            "SELECT 'l', ip, user_agent, MAX(id) FROM (SELECT ip, user_agent, id"
            " FROM jwwx_acc_login_log WHERE user_id = ? AND id < ? AND kind = 'login'"
            " AND result = 'ok' ORDER BY id DESC LIMIT ?) AS earlier"
            " GROUP BY ip, user_agent"
        )
        args += [user_id, before_log_id, history]
    found = LoginRead(
        sessions={} if sessions else None,
        live=set() if sessions else None,
        earlier=[] if history else None,
    )
    if not parts:
        return found
    # Prepared once per connection where it runs outside a transaction (before_login):
    # planning this statement cost PostgreSQL more than running it.
    execute_prepared(txn, " UNION ALL ".join(parts), args)
    locks: dict[str, int] = {}
    logins: list[tuple[int, str | None, str | None]] = []
    for kind, a, b, n in txn.fetchall():
        if kind in ("u", "i"):
            if n is not None and now is not None and int(n) > now:
                locks[kind] = int(n)
        elif kind == "t":
            found.second_factor = True
        elif kind == "d":
            found.bound_device = None if a is None else str(a)
        elif kind in ("s", "S") and found.sessions is not None:
            found.sessions[str(a)] = (str(b), int(n))
            if kind == "S" and found.live is not None:
                found.live.add(str(a))
        elif kind == "l":
            logins.append((int(n), a, b))
        elif kind == "x":
            found.extra = (a, b, n)
    found.locked_until = locks.get("u", locks.get("i"))
    if found.earlier is not None:
        found.earlier = [(a, b) for _, a, b in sorted(logins, reverse=True)]
    return found


# Failed-login counters and locks.


def lock_of_txn(txn: Txn, scope: str, subject: str, now: int) -> int | None:
    """locked_until_ts of an active lock, or None."""
    txn.execute(
        "SELECT locked_until_ts FROM jwwx_acc_failures WHERE scope = ? AND subject = ?"
        " AND locked_ts IS NOT NULL",
        (scope, subject),
    )
    row = txn.fetchone()
    if row is None or row[0] is None or int(row[0]) <= now:
        return None
    return int(row[0])


def count_failure_txn(
    txn: Txn,
    scope: str,
    subject: str,
    now: int,
    window_ms: int,
    max_failures: int,
    lock_ms: int,
) -> bool:
    """One more failure; True when it (newly) locks the subject."""
    txn.execute(
        "SELECT failures, window_start_ts, locked_until_ts, locked_ts FROM jwwx_acc_failures"
        " WHERE scope = ? AND subject = ?",
        (scope, subject),
    )
    row = txn.fetchone()
    if row is None:
        failures, start = 0, now
        txn.execute(
            "INSERT INTO jwwx_acc_failures (scope, subject, failures, window_start_ts)"
            " VALUES (?, ?, 0, ?)",
            (scope, subject, now),
        )
    else:
        failures, start = int(row[0]), int(row[1])
        expired_lock = row[3] is not None and int(row[2] or 0) <= now
        if now - start > window_ms or expired_lock:
            failures, start = 0, now
    failures += 1
    locks = failures >= max_failures
    txn.execute(
        "UPDATE jwwx_acc_failures SET failures = ?, window_start_ts = ?,"
        " locked_until_ts = ?, locked_ts = ? WHERE scope = ? AND subject = ?",
        (
            failures,
            start,
            (now + lock_ms if lock_ms else FOREVER) if locks else None,
            now if locks else None,
            scope,
            subject,
        ),
    )
    return locks


def clear_failures_txn(txn: Txn, scope: str, subject: str) -> bool:
    """Forget failures and release a lock; True if there was an active lock."""
    txn.execute(
        "DELETE FROM jwwx_acc_failures WHERE scope = ? AND subject = ? RETURNING locked_ts",
        (scope, subject),
    )
    row = txn.fetchone()
    return row is not None and row[0] is not None


def clear_user_failures_txn(txn: Txn, user_ids: list[str]) -> None:
    """clear_failures_txn for many accounts, in one statement (the lock's end is not
    reported: the batched writes of successful logins do not need it)."""
    for at in range(0, len(user_ids), 200):
        part = user_ids[at : at + 200]
        txn.execute(
            "DELETE FROM jwwx_acc_failures WHERE scope = ? AND subject IN"
            f" ({', '.join('?' * len(part))})",
            (USER, *part),
        )


def list_locks_txn(txn: Txn, now: int, limit: int) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT scope, subject, failures, locked_ts, locked_until_ts FROM jwwx_acc_failures"
        " WHERE locked_ts IS NOT NULL AND locked_until_ts > ? ORDER BY locked_ts DESC LIMIT ?",
        (now, limit),
    )
    return [
        {
            "scope": r[0],
            "subject": r[1],
            "failures": int(r[2]),
            "locked_ts": int(r[3]),
            "locked_until_ts": None if int(r[4]) >= FOREVER else int(r[4]),
        }
        for r in txn.fetchall()
    ]


# Sessions and their platform class.


@dataclass(frozen=True)
class SessionRow:
    user_id: str
    device_id: str
    platform: str
    user_agent: str | None
    ip: str | None
    login_ts: int


def add_session_txn(
    txn: Txn,
    user_id: str,
    device_id: str,
    platform: str,
    user_agent: str | None,
    ip: str | None,
    now: int,
) -> None:
    add_sessions_txn(
        txn, [SessionRow(user_id, device_id, platform, user_agent, ip, now)]
    )


def add_sessions_txn(txn: Txn, rows: list[SessionRow]) -> None:
    """add_session_txn for many sessions (distinct (user, device)), one statement."""
    insert_rows(
        txn,
        "INSERT INTO jwwx_acc_sessions (user_id, device_id, platform, user_agent, ip,"
        " login_ts)",
        [
            (
                r.user_id,
                r.device_id,
                r.platform,
                _clip(r.user_agent, 512),
                _clip(r.ip, 64),
                r.login_ts,
            )
            for r in rows
        ],
        "ON CONFLICT (user_id, device_id) DO UPDATE SET platform = excluded.platform,"
        " user_agent = excluded.user_agent, ip = excluded.ip,"
        " login_ts = excluded.login_ts",
    )


def forget_session_keys_txn(txn: Txn, keys: list[tuple[str, str]]) -> None:
    """forget_sessions_txn for many (user, device): one round trip."""
    batch(
        txn, "DELETE FROM jwwx_acc_sessions WHERE user_id = ? AND device_id = ?", keys
    )


def sessions_txn(txn: Txn, user_id: str) -> dict[str, tuple[str, int]]:
    """device_id -> (platform, login_ts)."""
    txn.execute(
        "SELECT device_id, platform, login_ts FROM jwwx_acc_sessions WHERE user_id = ?",
        (user_id,),
    )
    return {r[0]: (r[1], int(r[2])) for r in txn.fetchall()}


def forget_sessions_txn(txn: Txn, user_id: str, device_ids: list[str]) -> None:
    forget_session_keys_txn(txn, [(user_id, d) for d in device_ids])


# New-place / new-device alerts.

ALERT_COLUMNS = (
    "id",
    "ts",
    "user_id",
    "ip",
    "network",
    "device_id",
    "user_agent",
    "platform",
    "reasons",
    "notified",
)


def add_alert_txn(txn: Txn, values: dict[str, Any]) -> int:
    columns = [c for c in ALERT_COLUMNS if c != "id"]
    txn.execute(
        f"INSERT INTO jwwx_acc_alerts ({', '.join(columns)})"
        f" VALUES ({', '.join('?' for _ in columns)}) RETURNING id",
        tuple(values.get(c) for c in columns),
    )
    return int(txn.fetchone()[0])


def mark_alert_notified_txn(txn: Txn, alert_id: int) -> None:
    txn.execute("UPDATE jwwx_acc_alerts SET notified = 1 WHERE id = ?", (alert_id,))


def list_alerts_txn(
    txn: Txn, user_id: str | None, before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    equals: dict[str, Any] = {} if user_id is None else {"user_id": user_id}
    rows = _newest_first_txn(
        txn, "jwwx_acc_alerts", ALERT_COLUMNS, equals, before_id, limit
    )
    for row in rows:
        row["reasons"] = row["reasons"].split(",")
        row["notified"] = bool(row["notified"])
    return rows


# Multi-factor login (mfa.py): TOTP secrets, recovery codes, device keys.


def totp_txn(txn: Txn, user_id: str) -> tuple[str, int | None] | None:
    txn.execute(
        "SELECT sealed_secret, confirmed_ts FROM jwwx_acc_totp WHERE user_id = ?",
        (user_id,),
    )
    row = txn.fetchone()
    return None if row is None else (row[0], row[1])


def totp_enabled_txn(txn: Txn, user_id: str) -> bool:
    """TOTP confirmed, or an active device key: the account needs a second factor."""
    row = totp_txn(txn, user_id)
    if row is not None and row[1] is not None:
        return True
    txn.execute(
        "SELECT 1 FROM jwwx_acc_device_keys WHERE user_id = ? AND revoked_ts IS NULL LIMIT 1",
        (user_id,),
    )
    return txn.fetchone() is not None


def add_device_key_txn(
    txn: Txn,
    key_id: str,
    user_id: str,
    label: str,
    mac: str,
    admin: str,
    now: int,
    device_id: str | None,
) -> None:
    txn.execute(
        "INSERT INTO jwwx_acc_device_keys (key_id, user_id, label, key_mac, created_by,"
        " created_ts, device_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (key_id, user_id, label, mac, admin, now, device_id),
    )


def device_keys_txn(txn: Txn, user_id: str) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT key_id, label, device_id, created_by, created_ts, last_used_ts,"
        " revoked_ts FROM jwwx_acc_device_keys WHERE user_id = ?"
        " ORDER BY created_ts, key_id",
        (user_id,),
    )
    keys = (
        "key_id",
        "label",
        "device_id",
        "created_by",
        "created_ts",
        "last_used_ts",
        "revoked_ts",
    )
    return [dict(zip(keys, row, strict=True)) for row in txn.fetchall()]


def revoke_device_key_txn(txn: Txn, user_id: str, key_id: str, now: int) -> bool:
    txn.execute(
        "UPDATE jwwx_acc_device_keys SET revoked_ts = ?"
        " WHERE user_id = ? AND key_id = ? AND revoked_ts IS NULL",
        (now, user_id, key_id),
    )
    return bool(txn.rowcount == 1)


def use_device_key_txn(txn: Txn, user_id: str, key_id: str, mac: str, now: int) -> bool:
    txn.execute(
        "SELECT key_mac FROM jwwx_acc_device_keys"
        " WHERE user_id = ? AND key_id = ? AND revoked_ts IS NULL",
        (user_id, key_id),
    )
    row = txn.fetchone()
    if row is None or not secrets.compare_digest(str(row[0]), mac):
        return False
    txn.execute(
        "UPDATE jwwx_acc_device_keys SET last_used_ts = ? WHERE key_id = ?",
        (now, key_id),
    )
    return True


def start_totp_txn(txn: Txn, user_id: str, sealed: str, now: int) -> bool:
    """A new pending secret; False when TOTP is already on (turn it off first)."""
    row = totp_txn(txn, user_id)
    if row is not None and row[1] is not None:
        return False
    txn.execute("DELETE FROM jwwx_acc_totp WHERE user_id = ?", (user_id,))
    txn.execute(
        "INSERT INTO jwwx_acc_totp (user_id, sealed_secret, confirmed_ts, last_counter, created_ts)"
        " VALUES (?, ?, NULL, 0, ?)",
        (user_id, sealed, now),
    )
    return True


def confirm_totp_txn(txn: Txn, user_id: str, macs: list[str], now: int) -> None:
    txn.execute(
        "UPDATE jwwx_acc_totp SET confirmed_ts = ? WHERE user_id = ?", (now, user_id)
    )
    txn.execute("DELETE FROM jwwx_acc_recovery_codes WHERE user_id = ?", (user_id,))
    txn.executemany(
        "INSERT INTO jwwx_acc_recovery_codes (user_id, code_mac, used_ts) VALUES (?, ?, NULL)",
        [(user_id, mac) for mac in macs],
    )


def delete_totp_txn(txn: Txn, user_id: str) -> bool:
    """Forget the authenticator and recovery codes; True if there was one."""
    txn.execute("DELETE FROM jwwx_acc_totp WHERE user_id = ?", (user_id,))
    existed = bool(txn.rowcount)
    txn.execute("DELETE FROM jwwx_acc_recovery_codes WHERE user_id = ?", (user_id,))
    return existed


def use_totp_counter_txn(txn: Txn, user_id: str, counter: int) -> bool:
    txn.execute(
        "UPDATE jwwx_acc_totp SET last_counter = ? WHERE user_id = ? AND last_counter < ?",
        (counter, user_id, counter),
    )
    return bool(txn.rowcount == 1)


def use_recovery_code_txn(txn: Txn, user_id: str, mac: str, now: int) -> bool:
    txn.execute(
        "UPDATE jwwx_acc_recovery_codes SET used_ts = ?"
        " WHERE user_id = ? AND code_mac = ? AND used_ts IS NULL",
        (now, user_id, mac),
    )
    return bool(txn.rowcount == 1)


def recovery_codes_left_txn(txn: Txn, user_id: str) -> int:
    txn.execute(
        "SELECT COUNT(*) FROM jwwx_acc_recovery_codes WHERE user_id = ? AND used_ts IS NULL",
        (user_id,),
    )
    return int(txn.fetchone()[0])


def device_key_binding_txn(txn: Txn, user_id: str, key_id: str) -> str | None:
    """The device id a device key is bound to (None: any device, or no such key)."""
    txn.execute(
        "SELECT device_id FROM jwwx_acc_device_keys WHERE user_id = ? AND key_id = ?",
        (user_id, key_id),
    )
    row = txn.fetchone()
    return None if row is None or row[0] is None else str(row[0])


# The login-security policy set by admins (security_policy.py): one row, id 1.


def security_policy_txn(txn: Txn) -> tuple[str, str, int] | None:
    """(policy JSON, updated_by, updated_ts), or None while admins never set it."""
    txn.execute(
        "SELECT policy, updated_by, updated_ts FROM jwwx_acc_security_policy"
        " WHERE id = 1"
    )
    row = txn.fetchone()
    return None if row is None else (str(row[0]), str(row[1]), int(row[2]))


def put_security_policy_txn(txn: Txn, policy: str, admin: str, now: int) -> None:
    txn.execute("DELETE FROM jwwx_acc_security_policy WHERE id = 1")
    txn.execute(
        "INSERT INTO jwwx_acc_security_policy (id, policy, updated_by, updated_ts)"
        " VALUES (1, ?, ?, ?)",
        (policy, admin, now),
    )


# Activity per day (activity.py).


def record_activity_txn(txn: Txn, rows: list[tuple[str, str]]) -> None:
    """(day "YYYY-MM-DD", user_id) pairs; already recorded ones are left alone (other
    workers record the same accounts)."""
    txn.executemany(
        "INSERT INTO jwwx_acc_activity (day, user_id) VALUES (?, ?)"
        " ON CONFLICT (day, user_id) DO NOTHING",
        rows,
    )


def activity_txn(txn: Txn, first_day: str, last_day: str) -> list[tuple[str, str]]:
    txn.execute(
        "SELECT day, user_id FROM jwwx_acc_activity WHERE day >= ? AND day <= ?",
        (first_day, last_day),
    )
    return [(str(d), str(u)) for d, u in txn.fetchall()]


def logins_by_platform_txn(txn: Txn, since_ts: int) -> dict[str, dict[str, int]]:
    """{platform: {result: count}} of logins since `since_ts` (the usage records)."""
    txn.execute(
        "SELECT COALESCE(platform, 'other'), result, COUNT(*) FROM jwwx_acc_login_log"
        " WHERE kind = 'login' AND ts >= ? GROUP BY platform, result",
        (since_ts,),
    )
    found: dict[str, dict[str, int]] = {}
    for platform, result, count in txn.fetchall():
        found.setdefault(str(platform), {})[str(result)] = int(count)
    return found


def prune_activity_txn(txn: Txn, before_day: str) -> None:
    txn.execute("DELETE FROM jwwx_acc_activity WHERE day < ?", (before_day,))
