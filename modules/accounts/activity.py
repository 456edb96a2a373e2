# SPDX-License-Identifier: AGPL-3.0-or-later
"""Active members (运营统计): who used the server on which day, and the statistics of
GET /_jwwx/admin/v1/accounts/activity.

An account is active on a day when it made any authenticated request that day (the
request check every client request passes, gate.py), not only when it logged in: a
phone stays signed in for weeks. Each process keeps the accounts it saw today in memory
and writes the new ones every FLUSH_SECONDS in one batch (a row per account and day, so
at most 55,000 small rows a day for the bureau); days are the server's local calendar
days. Rows older than the login log's retention are pruned with it.

Statistics: distinct active accounts per day, ISO week (Monday first) or calendar
month; per second-level unit (二级单位, the directory's depth-1 departments, by each
member's main department) over the whole range with the unit's member count; and the
usage records of the range from the login log (logins by platform and result).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from synapse.module_api import ModuleApi

from modules.accounts import storage
from modules.common.admin import AdminScope, department
from modules.common.runtime import ModuleRuntime
from modules.common.storage import Txn
from modules.directory import public as directory

FLUSH_SECONDS = 30
# How many periods back an answer may reach.
PERIODS = {"day": 92, "week": 53, "month": 24}
UNIT_DEPTH = 1


def today() -> datetime.date:
    return datetime.date.today()


class ActivityRecorder:
    def __init__(self, api: ModuleApi, runtime: ModuleRuntime) -> None:
        self._api = api
        self._runtime = runtime
        self._day = today().isoformat()
        self._seen: set[str] = set()
        self._pending: set[str] = set()

    def seen(self, user_id: str) -> None:
        """An authenticated request of `user_id` (cheap: a set lookup)."""
        day = today().isoformat()
        if day != self._day:  # pending rows keep their own day
            self._day, self._seen = day, set()
        if user_id in self._seen:
            return
        self._seen.add(user_id)
        self._pending.add(f"{self._day}\n{user_id}")

    async def flush(self) -> None:
        if not self._pending or not self._runtime.is_ready:
            return
        rows = [(p[:10], p[11:]) for p in self._pending]  # "YYYY-MM-DD\nuser"
        self._pending = set()
        await self._api.run_db_interaction(
            "jwwx_acc_record_activity", storage.record_activity_txn, rows
        )


def period_start(day: datetime.date, period: str) -> datetime.date:
    if period == "week":
        return day - datetime.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _back(start: datetime.date, period: str, count: int) -> datetime.date:
    """The start of the period `count - 1` periods before the one starting at `start`."""
    if period == "day":
        return start - datetime.timedelta(days=count - 1)
    if period == "week":
        return start - datetime.timedelta(weeks=count - 1)
    month = start.year * 12 + start.month - 1 - (count - 1)
    return datetime.date(month // 12, month % 12 + 1, 1)


def _units_txn(txn: Txn, user_ids: Iterable[str], server: str) -> dict[str, int]:
    """{user_id: unit id} by each member's main department (members only)."""
    userids = {u[1:].split(":", 1)[0]: u for u in user_ids if u.endswith(":" + server)}
    members = directory.get_members_txn(txn, sorted(userids))
    mains = {
        userid: m.memberships[0].department_id
        for userid, m in members.items()
        if m.memberships
    }
    departments = directory.get_departments_txn(txn, sorted(set(mains.values())))
    units: dict[str, int] = {}
    for userid, main in mains.items():
        found = departments.get(main)
        if found is not None and len(found.path_ids) > UNIT_DEPTH:
            units[userids[userid]] = found.path_ids[UNIT_DEPTH]
    return units


def statistics_txn(
    txn: Txn,
    first: datetime.date,
    last: datetime.date,
    server: str,
    usage_since_ts: int | None,
) -> dict[str, Any]:
    rows = storage.activity_txn(txn, first.isoformat(), last.isoformat())
    units = _units_txn(txn, {u for _d, u in rows}, server)
    unit_departments = directory.get_departments_txn(txn, sorted(set(units.values())))
    return {
        "rows": rows,
        "units": units,
        "unit_info": {
            i: (d.name, d.subtree_count) for i, d in unit_departments.items()
        },
        "usage": None
        if usage_since_ts is None
        else storage.logins_by_platform_txn(txn, usage_since_ts),
    }


async def statistics(
    api: ModuleApi, scope: AdminScope, period: str, count: int
) -> dict[str, Any]:
    """The answer of GET activity (see the module docstring). A scoped admin sees only
    members of the units in its scope, and no usage records (they span every
    account)."""
    last = today()
    first = _back(period_start(last, period), period, count)
    midnight = datetime.datetime.combine(first, datetime.time())
    found = await api.run_db_interaction(
        "jwwx_acc_activity_stats",
        statistics_txn,
        first,
        last,
        api.server_name,
        int(midnight.timestamp() * 1000) if scope.unrestricted else None,
    )
    units: dict[str, int] = found["units"]
    allowed: set[int] | None = None
    if not scope.unrestricted:
        kept = await scope.filter([department(u) for u in sorted(set(units.values()))])
        allowed = {int(t.id) for t in kept}
    buckets: dict[str, set[str]] = {}
    per_unit: dict[int, set[str]] = {}
    everyone: set[str] = set()
    for day, user_id in found["rows"]:
        unit = units.get(user_id)
        if allowed is not None and unit not in allowed:
            continue
        start = period_start(datetime.date.fromisoformat(day), period).isoformat()
        buckets.setdefault(start, set()).add(user_id)
        everyone.add(user_id)
        if unit is not None:
            per_unit.setdefault(unit, set()).add(user_id)
    series = []
    cursor = first
    for _ in range(count):
        key = cursor.isoformat()
        series.append({"start": key, "active": len(buckets.get(key, ()))})
        cursor = _next(cursor, period)
    info = found["unit_info"]
    unit_rows = [
        {
            "id": unit,
            "name": info.get(unit, (str(unit), 0))[0],
            "members": info.get(unit, ("", 0))[1],
            "active": len(active),
        }
        for unit, active in per_unit.items()
    ]
    unit_rows.sort(key=lambda r: (-r["active"], r["id"]))
    return {
        "period": period,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "series": series,
        "total_active": len(everyone),
        "units": unit_rows,
        "usage": found["usage"],
    }


def _next(start: datetime.date, period: str) -> datetime.date:
    if period == "day":
        return start + datetime.timedelta(days=1)
    if period == "week":
        return start + datetime.timedelta(weeks=1)
    month = start.year * 12 + start.month
    return datetime.date(month // 12, month % 12 + 1, 1)
