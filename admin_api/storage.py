# SPDX-License-Identifier: AGPL-3.0-or-later
"""SQL of admin_api: admin groups, their members and scopes, roles, unit quotas."""

import json
from typing import Any

from admin_api.model import Group
from modules.common.storage import Txn


def _json_set(text: str) -> frozenset[str]:
    return frozenset(str(v) for v in json.loads(text))


def _json_list(values: frozenset[str]) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


def generation_txn(txn: Txn) -> int:
    txn.execute("SELECT generation FROM jwwx_admin_generation WHERE id = 1")
    row = txn.fetchone()
    return int(row[0]) if row else 0


def bump_generation_txn(txn: Txn) -> None:
    txn.execute(
        "UPDATE jwwx_admin_generation SET generation = generation + 1 WHERE id = 1"
    )


def load_model_txn(
    txn: Txn,
) -> tuple[int, dict[int, Group], dict[str, frozenset[str]]]:
    """(generation, groups by id, roles by user id) in one snapshot."""
    generation = generation_txn(txn)
    members: dict[int, set[str]] = {}
    txn.execute("SELECT group_id, user_id FROM jwwx_admin_group_members")
    for group_id, user_id in txn.fetchall():
        members.setdefault(int(group_id), set()).add(user_id)
    scopes: dict[int, set[int]] = {}
    txn.execute("SELECT group_id, department_id FROM jwwx_admin_group_scope")
    for group_id, department_id in txn.fetchall():
        scopes.setdefault(int(group_id), set()).add(int(department_id))
    txn.execute(
        "SELECT id, name, parent_id, rights, apps, hidden_fields, created_by,"
        " created_ts, updated_by, updated_ts FROM jwwx_admin_groups"
    )
    groups: dict[int, Group] = {}
    for row in txn.fetchall():
        group_id = int(row[0])
        groups[group_id] = Group(
            id=group_id,
            name=row[1],
            parent_id=None if row[2] is None else int(row[2]),
            rights=_json_set(row[3]),
            apps=_json_set(row[4]),
            hidden_fields=_json_set(row[5]),
            scope=frozenset(scopes.get(group_id, set())),
            members=frozenset(members.get(group_id, set())),
            created_by=row[6],
            created_ts=int(row[7]),
            updated_by=row[8],
            updated_ts=int(row[9]),
        )
    roles: dict[str, set[str]] = {}
    txn.execute("SELECT user_id, role FROM jwwx_admin_roles")
    for user_id, role in txn.fetchall():
        roles.setdefault(user_id, set()).add(role)
    return generation, groups, {u: frozenset(r) for u, r in roles.items()}


def next_group_id_txn(txn: Txn) -> int:
    txn.execute("SELECT MAX(id) FROM jwwx_admin_groups")
    row = txn.fetchone()
    return int(row[0] or 0) + 1


def save_group_txn(txn: Txn, group: Group, is_new: bool) -> None:
    """Insert or replace a group with its members and scope; bumps the generation."""
    if is_new:
        txn.execute(
            "INSERT INTO jwwx_admin_groups (id, name, parent_id, rights, apps,"
            " hidden_fields, created_by, created_ts, updated_by, updated_ts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                group.id,
                group.name,
                group.parent_id,
                _json_list(group.rights),
                _json_list(group.apps),
                _json_list(group.hidden_fields),
                group.created_by,
                group.created_ts,
                group.updated_by,
                group.updated_ts,
            ),
        )
    else:
        txn.execute(
            "UPDATE jwwx_admin_groups SET name = ?, parent_id = ?, rights = ?, apps = ?,"
            " hidden_fields = ?, updated_by = ?, updated_ts = ? WHERE id = ?",
            (
                group.name,
                group.parent_id,
                _json_list(group.rights),
                _json_list(group.apps),
                _json_list(group.hidden_fields),
                group.updated_by,
                group.updated_ts,
                group.id,
            ),
        )
    txn.execute("DELETE FROM jwwx_admin_group_members WHERE group_id = ?", (group.id,))
    txn.executemany(
        "INSERT INTO jwwx_admin_group_members (group_id, user_id) VALUES (?, ?)",
        [(group.id, u) for u in sorted(group.members)],
    )
    txn.execute("DELETE FROM jwwx_admin_group_scope WHERE group_id = ?", (group.id,))
    txn.executemany(
        "INSERT INTO jwwx_admin_group_scope (group_id, department_id) VALUES (?, ?)",
        [(group.id, d) for d in sorted(group.scope)],
    )
    bump_generation_txn(txn)


def delete_group_txn(txn: Txn, group_id: int) -> None:
    for table, column in (
        ("jwwx_admin_group_members", "group_id"),
        ("jwwx_admin_group_scope", "group_id"),
        ("jwwx_admin_groups", "id"),
    ):
        txn.execute(f"DELETE FROM {table} WHERE {column} = ?", (group_id,))  # noqa: S608
    bump_generation_txn(txn)


def set_roles_txn(
    txn: Txn, user_id: str, roles: frozenset[str], by: str, now: int
) -> None:
    txn.execute("SELECT role FROM jwwx_admin_roles WHERE user_id = ?", (user_id,))
    current = {row[0] for row in txn.fetchall()}
    for role in sorted(current - roles):
        txn.execute(
            "DELETE FROM jwwx_admin_roles WHERE user_id = ? AND role = ?",
            (user_id, role),
        )
    txn.executemany(
        "INSERT INTO jwwx_admin_roles (user_id, role, assigned_by, assigned_ts)"
        " VALUES (?, ?, ?, ?)",
        [(user_id, role, by, now) for role in sorted(roles - current)],
    )
    bump_generation_txn(txn)


def list_roles_txn(txn: Txn) -> list[dict[str, Any]]:
    txn.execute(
        "SELECT user_id, role, assigned_by, assigned_ts FROM jwwx_admin_roles"
        " ORDER BY role, user_id"
    )
    return [
        {"user_id": r[0], "role": r[1], "assigned_by": r[2], "assigned_ts": int(r[3])}
        for r in txn.fetchall()
    ]


def quotas_txn(txn: Txn) -> dict[int, int]:
    txn.execute("SELECT unit_id, quota FROM jwwx_admin_quotas")
    return {int(r[0]): int(r[1]) for r in txn.fetchall()}


def load_model_and_quotas_txn(
    txn: Txn,
) -> tuple[tuple[int, dict[int, Group], dict[str, frozenset[str]]], dict[int, int]]:
    """load_model_txn and the quotas, in one snapshot (quota changes bump the
    generation too)."""
    return load_model_txn(txn), quotas_txn(txn)


def set_quota_txn(txn: Txn, unit_id: int, quota: int | None, by: str, now: int) -> None:
    bump_generation_txn(txn)  # cached with the model (authority.py)
    txn.execute("DELETE FROM jwwx_admin_quotas WHERE unit_id = ?", (unit_id,))
    if quota is not None:
        txn.execute(
            "INSERT INTO jwwx_admin_quotas (unit_id, quota, updated_by, updated_ts)"
            " VALUES (?, ?, ?, ?)",
            (unit_id, quota, by, now),
        )


# Admin sessions (sessions.py): verified by a second factor, last active when.


def admin_session_txn(
    txn: Txn, user_id: str, device_id: str
) -> tuple[int, int, str] | None:
    """(verified_ts, last_active_ts, verified_by) of the session, None if unverified."""
    txn.execute(
        "SELECT verified_ts, last_active_ts, verified_by FROM jwwx_admin_sessions"
        " WHERE user_id = ? AND device_id = ?",
        (user_id, device_id),
    )
    row = txn.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), str(row[2]))


def save_admin_session_txn(
    txn: Txn, user_id: str, device_id: str, now: int, verified_by: str
) -> None:
    txn.execute(
        "INSERT INTO jwwx_admin_sessions"
        " (user_id, device_id, verified_ts, last_active_ts, verified_by)"
        " VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id, device_id) DO UPDATE SET"
        " verified_ts = excluded.verified_ts,"
        " last_active_ts = excluded.last_active_ts,"
        " verified_by = excluded.verified_by",
        (user_id, device_id, now, now, verified_by),
    )


def touch_admin_session_txn(
    txn: Txn, user_id: str, device_id: str, last_active_ts: int
) -> tuple[int, int, str] | None:
    """Move last_active_ts forward (never back); the row afterwards, None if gone."""
    txn.execute(
        "UPDATE jwwx_admin_sessions SET last_active_ts = ?"
        " WHERE user_id = ? AND device_id = ? AND last_active_ts < ?",
        (last_active_ts, user_id, device_id, last_active_ts),
    )
    return admin_session_txn(txn, user_id, device_id)


def delete_admin_session_txn(txn: Txn, user_id: str, device_id: str) -> bool:
    txn.execute(
        "DELETE FROM jwwx_admin_sessions WHERE user_id = ? AND device_id = ?",
        (user_id, device_id),
    )
    return bool(txn.rowcount)


def prune_admin_sessions_txn(txn: Txn, idle_before_ts: int) -> int:
    txn.execute(
        "DELETE FROM jwwx_admin_sessions WHERE last_active_ts < ?", (idle_before_ts,)
    )
    return int(txn.rowcount)


# Wrong second-factor codes (sessions.py): one row each, within the failure window.


def totp_failures_txn(txn: Txn, user_id: str, since_ts: int) -> tuple[int, int | None]:
    """(wrong codes of this admin since `since_ts`, the oldest of them)."""
    txn.execute(
        "SELECT COUNT(*), MIN(failed_ts) FROM jwwx_admin_totp_failures"
        " WHERE user_id = ? AND failed_ts >= ?",
        (user_id, since_ts),
    )
    row = txn.fetchone()
    count = int(row[0]) if row else 0
    return count, (int(row[1]) if count else None)


def add_totp_failure_txn(
    txn: Txn, user_id: str, now: int, since_ts: int
) -> tuple[int, int | None]:
    """Record one wrong code (and forget this admin's older ones); the count and the
    oldest afterwards. Run serialized: concurrent wrong codes on several workers all
    count."""
    txn.execute(
        "DELETE FROM jwwx_admin_totp_failures WHERE user_id = ? AND failed_ts < ?",
        (user_id, since_ts),
    )
    txn.execute(
        "INSERT INTO jwwx_admin_totp_failures (user_id, failed_ts) VALUES (?, ?)",
        (user_id, now),
    )
    return totp_failures_txn(txn, user_id, since_ts)


def clear_totp_failures_txn(txn: Txn, user_id: str) -> None:
    txn.execute("DELETE FROM jwwx_admin_totp_failures WHERE user_id = ?", (user_id,))


def prune_totp_failures_txn(txn: Txn, before_ts: int) -> int:
    txn.execute(
        "DELETE FROM jwwx_admin_totp_failures WHERE failed_ts < ?", (before_ts,)
    )
    return int(txn.rowcount)


# Settings of the administration (organisation.py): one JSON object per name.


def admin_setting_txn(txn: Txn, name: str) -> tuple[dict[str, Any], str, int] | None:
    """(value, updated_by, updated_ts), None when never set."""
    txn.execute(
        "SELECT value, updated_by, updated_ts FROM jwwx_admin_settings WHERE name = ?",
        (name,),
    )
    row = txn.fetchone()
    if row is None:
        return None
    return dict(json.loads(row[0])), str(row[1]), int(row[2])


def set_admin_setting_txn(
    txn: Txn, name: str, value: dict[str, Any], actor: str, now: int
) -> None:
    txn.execute(
        "INSERT INTO jwwx_admin_settings (name, value, updated_by, updated_ts)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " value = excluded.value, updated_by = excluded.updated_by,"
        " updated_ts = excluded.updated_ts",
        (name, json.dumps(value, ensure_ascii=False, sort_keys=True), actor, now),
    )
