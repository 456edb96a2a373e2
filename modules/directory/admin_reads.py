# SPDX-License-Identifier: AGPL-3.0-or-later
"""The directory's reads for admin_api (scopes and unit quotas): part of the directory's
public read surface, so admin_api never touches the directory's storage. Each is a
`_txn` function run through run_db_interaction.

Second-level units (二级单位) are the departments at depth 1 (children of a root).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from modules.common.admin import QUOTA_EXCEEDED
from modules.common.errors import error
from modules.common.storage import Txn
from modules.common.synapse.errors import SynapseError
from modules.directory.storage import departments as dept_store
from modules.directory.storage import members as member_store

UNIT_DEPTH = 1


@dataclass(frozen=True)
class Written:
    """What one directory write of this process did to the members it names: the
    generation it moved the directory to, and each member's departments afterwards
    (main department first; absent: the member is gone or has none)."""

    generation: int
    departments: Mapping[str, tuple[int, ...]]


# (userids or None, what the write left them as or None): see add_change_listener.
ChangeListener = Callable[[list[str] | None, Written | None], None]

# Per server (ModuleApi): called after every directory write made in this process.
_listeners: dict[int, list[ChangeListener]] = {}


def add_change_listener(api: Any, callback: ChangeListener) -> None:
    """Call `callback(userids, written)` after every directory write of this process:
    the members it changed, or None when it may have changed the tree or many members
    (a cache of directory facts forgets them at once; other processes:
    changes_since_txn). `written` gives their departments after a committed write (a
    cache may take them instead of reading again); None when the write failed or
    changed the tree."""
    _listeners.setdefault(id(api), []).append(callback)


def changed(
    api: Any, userids: list[str] | None, written: Written | None = None
) -> None:
    """The directory calls this after each write (DirectoryAdmin._write)."""
    for callback in list(_listeners.get(id(api), [])):
        callback(userids, written)


def written_txn(txn: Txn, generation: int, userids: list[str]) -> Written:
    """Inside a directory write, after it: what the listeners are told."""
    return Written(
        generation, member_store.member_departments_txn(txn, sorted(set(userids)))
    )


def changes_since_txn(txn: Txn, generation: int) -> tuple[int, bool, dict[str, int]]:
    """(current generation, everything may have changed, each member changed with the
    generation of its last change) since `generation` (the directory's writes record
    them)."""
    return dept_store.changes_since_txn(txn, generation)


@dataclass(frozen=True)
class DepartmentNode:
    id: int
    name: str
    path_ids: tuple[int, ...]  # from the root down to this one

    @property
    def unit_id(self) -> int | None:
        return self.path_ids[UNIT_DEPTH] if len(self.path_ids) > UNIT_DEPTH else None


@dataclass(frozen=True)
class UnitUsage:
    id: int
    name: str
    usage: int


@dataclass(frozen=True)
class OrganisationFacts:
    """What the unit information shows of the directory (admin_api/organisation.py)."""

    members: int
    enabled_members: int
    departments: int
    created_ts: int | None  # the first root department's creation


def organisation_txn(txn: Txn) -> OrganisationFacts:
    members, enabled = member_store.count_members_txn(txn)
    departments, created_ts = dept_store.count_departments_txn(txn)
    return OrganisationFacts(members, enabled, departments, created_ts)


def all_scope_facts_txn(
    txn: Txn,
) -> tuple[int, dict[int, DepartmentNode], dict[str, tuple[int, ...]]]:
    """(generation, every department's node, every member's departments) at once."""
    generation = dept_store.generation_txn(txn)
    nodes = {
        d.id: DepartmentNode(d.id, d.name, tuple(d.path_ids))
        for d in dept_store.all_departments_txn(txn)
    }
    return generation, nodes, member_store.all_member_departments_txn(txn)


def departments_txn(txn: Txn, ids: list[int]) -> dict[int, DepartmentNode]:
    """The departments that exist among `ids`, with their paths."""
    return {
        d.id: DepartmentNode(d.id, d.name, tuple(d.path_ids))
        for d in dept_store.get_departments_txn(txn, sorted(set(ids))).values()
    }


def member_departments_txn(txn: Txn, userids: list[str]) -> dict[str, tuple[int, ...]]:
    """Each existing member's department ids, main department first."""
    found = member_store.get_members_txn(txn, sorted(set(userids)))
    return {
        u: tuple(ms.department_id for ms in m.memberships) for u, m in found.items()
    }


def scope_facts_txn(
    txn: Txn, department_ids: list[int], userids: list[str]
) -> tuple[dict[int, DepartmentNode], dict[str, tuple[int, ...]]]:
    """What a scope decision needs in one transaction: the members' department ids and
    the paths of those departments and of `department_ids`."""
    member_departments = member_departments_txn(txn, userids) if userids else {}
    wanted = set(department_ids)
    for ids in member_departments.values():
        wanted.update(ids)
    nodes = departments_txn(txn, sorted(wanted)) if wanted else {}
    return nodes, member_departments


def units_usage_txn(txn: Txn) -> tuple[list[UnitUsage], int]:
    """Every second-level unit with its enabled members (by main department), and the
    directory's total of enabled members."""
    units = dept_store.departments_at_depth_txn(txn, UNIT_DEPTH)
    counts = member_store.enabled_main_counts_txn(txn)
    paths = dept_store.get_departments_txn(txn, sorted(counts))
    usage: dict[int, int] = {}
    for department_id, count in counts.items():
        department = paths.get(department_id)
        if department is not None and len(department.path_ids) > UNIT_DEPTH:
            unit = department.path_ids[UNIT_DEPTH]
            usage[unit] = usage.get(unit, 0) + count
    total = member_store.count_enabled_main_txn(txn, None)
    return [UnitUsage(u.id, u.name, usage.get(u.id, 0)) for u in units], total


def unit_usage_txn(
    txn: Txn, department_id: int
) -> tuple[DepartmentNode | None, int, int]:
    """(the unit of a department or None, its usage, the total usage)."""
    department = dept_store.get_department_txn(txn, department_id)
    total = member_store.count_enabled_main_txn(txn, None)
    if department is None or len(department.path_ids) <= UNIT_DEPTH:
        return None, 0, total
    unit = dept_store.get_department_txn(txn, department.path_ids[UNIT_DEPTH])
    if unit is None:
        return None, 0, total
    node = DepartmentNode(unit.id, unit.name, tuple(unit.path_ids))
    return node, member_store.count_enabled_main_txn(txn, unit.path), total


TOTAL = 0  # the key of the total quota (admin_api's quotas/total)


class QuotaExceededError(Exception):
    """A write (a member created or enabled, an import) would take units beyond their
    quotas: `units` lists them. Every caller answers it the same way: `message` (for
    WeCom's errmsg) and `to_synapse()` (the admin API's 403)."""

    def __init__(self, units: list[dict[str, Any]]) -> None:
        super().__init__("quota exceeded")
        self.units = units

    @property
    def message(self) -> str:
        names = "、".join(
            f"{u['unit_name']}（授权 {u['quota']} 人，已有 {u['usage']} 人，"
            f"操作后 {u['usage_after']} 人）"
            for u in self.units
        )
        return f"超出授权人数：{names}；未做任何修改"

    def to_synapse(self) -> SynapseError:
        first = self.units[0]
        return error(
            403,
            QUOTA_EXCEEDED,
            self.message,
            units=self.units,
            unit_id=first["unit_id"],
            unit_name=first["unit_name"],
            quota=first["quota"],
            usage=first["usage"],
            adding=first["usage_after"] - first["usage"],
        )


def quotas_exceeded_txn(
    txn: Txn,
    quotas: Mapping[int, int],
    before: tuple[list[UnitUsage], int],
) -> list[dict[str, Any]]:
    """The units (and the total, unit_id None) whose usage grew beyond their quota
    since `before` (units_usage_txn earlier in the same transaction)."""
    after_units, after_total = units_usage_txn(txn)
    old = {u.id: u.usage for u in before[0]}
    out: list[dict[str, Any]] = []
    for unit in after_units:
        quota = quotas.get(unit.id)
        previous = old.get(unit.id, 0)
        if quota is not None and unit.usage > previous and unit.usage > quota:
            out.append(
                {
                    "unit_id": unit.id,
                    "unit_name": unit.name,
                    "quota": quota,
                    "usage": previous,
                    "usage_after": unit.usage,
                }
            )
    quota = quotas.get(TOTAL)
    if quota is not None and after_total > before[1] and after_total > quota:
        out.append(
            {
                "unit_id": None,
                "unit_name": "全局",
                "quota": quota,
                "usage": before[1],
                "usage_after": after_total,
            }
        )
    return out


def member_quota_txn(
    txn: Txn,
    quotas: Mapping[int, int],
    before: tuple[int | None, bool] | None,
    after: tuple[int | None, bool],
) -> list[dict[str, Any]]:
    """After one member was written in this transaction: (main department, enabled)
    before (None: new) and after. The unit (and the total) it now counts in, when it did
    not count there before and is now beyond its quota; [] when fine."""
    main, enabled = after
    if not enabled:
        return []
    counted = before is not None and before[1]
    out: list[dict[str, Any]] = []
    unit = _unit_of_txn(txn, main)
    old_unit = _unit_of_txn(txn, before[0]) if counted and before else None
    if (
        unit is not None
        and unit.id in quotas
        and (old_unit is None or old_unit.id != unit.id)
    ):
        department = dept_store.get_department_txn(txn, unit.id)
        usage = (
            member_store.count_enabled_main_txn(txn, department.path)
            if department
            else 0
        )
        if usage > quotas[unit.id]:
            out.append(
                {
                    "unit_id": unit.id,
                    "unit_name": unit.name,
                    "quota": quotas[unit.id],
                    "usage": usage - 1,
                    "usage_after": usage,
                }
            )
    if TOTAL in quotas and not counted:
        total = member_store.count_enabled_main_txn(txn, None)
        if total > quotas[TOTAL]:
            out.append(
                {
                    "unit_id": None,
                    "unit_name": "全局",
                    "quota": quotas[TOTAL],
                    "usage": total - 1,
                    "usage_after": total,
                }
            )
    return out


def units_of_txn(txn: Txn, userids: list[str]) -> dict[str, tuple[int, str]]:
    """userid → (unit id, unit name) for statistics per unit: the second level of the
    member's main department's path (the root itself for members of a root). Members
    without a department are left out."""
    members = member_store.get_members_txn(txn, userids)
    main = {
        u: m.memberships[0].department_id for u, m in members.items() if m.memberships
    }
    departments = dept_store.get_departments_txn(txn, sorted(set(main.values())))
    unit_ids: dict[str, int] = {}
    for userid, department_id in main.items():
        found = departments.get(department_id)
        if found is None:
            continue
        path = [int(p) for p in found.path.strip("/").split("/") if p]
        unit_ids[userid] = path[UNIT_DEPTH] if len(path) > UNIT_DEPTH else path[0]
    names = dept_store.get_departments_txn(txn, sorted(set(unit_ids.values())))
    return {
        u: (d, names[d].name if d in names else str(d)) for u, d in unit_ids.items()
    }


def _unit_of_txn(txn: Txn, department_id: int | None) -> DepartmentNode | None:
    if department_id is None:
        return None
    department = dept_store.get_department_txn(txn, department_id)
    if department is None or len(department.path_ids) <= UNIT_DEPTH:
        return None
    unit_id = department.path_ids[UNIT_DEPTH]
    unit = dept_store.get_department_txn(txn, unit_id)
    return (
        None
        if unit is None
        else DepartmentNode(unit.id, unit.name, tuple(unit.path_ids))
    )
