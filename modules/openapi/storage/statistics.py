# SPDX-License-Identifier: AGPL-3.0-or-later
"""Statistics across apps (the app-push bridge's source apps, or any set of open-API
apps): per day and per unit, pushed, delivered and read."""

from collections import defaultdict
from typing import Any

from modules.common.storage import Txn
from modules.common.synapse.tables import public_read_since_sql
from modules.directory import public as directory

DAY_MS = 86_400_000


def _marks(values: tuple[int, ...]) -> str:
    return ",".join("?" * len(values))


def cross_app_statistics_txn(
    txn: Txn,
    agentids: tuple[int, ...],
    since: int,
    days: int,
    offset_ms: int,
    server_name: str,
) -> dict[str, Any]:
    """Messages of these apps created in [since, since + days): per day (local days of
    `offset_ms`, day 0 starting at `since`) and app: pushed (messages), recipients,
    delivered (copies), read (copies whose recipient's public read receipt is at or
    after them); per unit (the recipient's 二级单位): delivered and read per app."""
    until = since + days * DAY_MS
    marks = _marks(agentids)
    txn.execute(
        "SELECT agentid, created_ts, recipients FROM jwwx_openapi_messages"
        f" WHERE agentid IN ({marks}) AND created_ts >= ? AND created_ts < ?",
        (*agentids, since, until),
    )
    day_app: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"pushed": 0, "recipients": 0, "delivered": 0, "read": 0}
    )
    for agentid, created, recipients in txn.fetchall():
        cell = day_app[((int(created) - since) // DAY_MS, int(agentid))]
        cell["pushed"] += 1
        cell["recipients"] += int(recipients)
    read = public_read_since_sql(
        "e.room_id", "'@' || e.userid || ':' || ?", "e.stream_ordering"
    )
    txn.execute(
        "SELECT m.agentid, m.created_ts, e.userid,"
        f" CASE WHEN e.stream_ordering IS NOT NULL AND {read} THEN 1 ELSE 0 END"
        " FROM jwwx_openapi_message_events AS e"
        " JOIN jwwx_openapi_messages AS m ON m.msgid = e.msgid"
        f" WHERE m.agentid IN ({marks}) AND m.created_ts >= ? AND m.created_ts < ?",
        (server_name, *agentids, since, until),
    )
    copies = [(int(a), int(c), str(u), int(r)) for a, c, u, r in txn.fetchall()]
    units = directory.units_of_txn(txn, sorted({u for _a, _c, u, _r in copies}))
    unit_app: dict[tuple[int, int], dict[str, int]] = defaultdict(
        lambda: {"delivered": 0, "read": 0}
    )
    for agentid, created, userid, was_read in copies:
        cell = day_app[((created - since) // DAY_MS, agentid)]
        cell["delivered"] += 1
        cell["read"] += was_read
        unit = units.get(userid, (0, ""))[0]
        unit_cell = unit_app[(unit, agentid)]
        unit_cell["delivered"] += 1
        unit_cell["read"] += was_read
    names = {unit_id: name for unit_id, name in units.values()}
    return {
        "days": {
            day: {a: dict(c) for (d, a), c in day_app.items() if d == day}
            for day in range(days)
        },
        "units": {
            unit: (
                names.get(unit, "未归属单位"),
                {a: dict(c) for (u, a), c in unit_app.items() if u == unit},
            )
            for unit in sorted({u for u, _a in unit_app})
        },
    }
