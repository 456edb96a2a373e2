# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin_api's answer to the decision API of modules.common.admin.

The model (groups, members, scopes, roles) is held in memory as one Snapshot and
reloaded when its generation (a counter every change bumps, in the database) moves:
changes made through this process reload at once, other processes notice within
`cache_check_seconds`. Department paths are read per decision (one indexed read), so
moving a department takes effect at the next request.

Super admins are the Synapse server admins (the bootstrap admin of `init` /
`create-admin`, and whoever a super admin gives the super role).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from admin_api import storage
from admin_api.config import AdminApiConfig
from admin_api.model import (
    AUDIT,
    RIGHTS,
    ROLE_RIGHTS,
    SECURITY,
    Grant,
    Snapshot,
    right_of_scope,
)
from modules.common import registry
from modules.common.admin import (
    QUOTA_EXCEEDED,
    AdminScope,
    Target,
    Unrestricted,
)
from modules.common.errors import error
from modules.common.runtime import ModuleRuntime
from modules.directory import admin_reads
from modules.directory.admin_reads import DepartmentNode

logger = logging.getLogger(__name__)

TOTAL_QUOTA_ID = 0


class DirectoryView:
    """The directory's tree as admin_api reads it (its public reads, admin_reads)."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def loaded(self) -> bool:
        try:
            registry.lookup(self._api, "directory")
        except registry.ServiceMissingError:
            return False
        return True

    async def departments(self, ids: Sequence[int]) -> dict[int, DepartmentNode]:
        if not ids or not self.loaded():
            return {}
        return dict(
            await self._api.run_db_interaction(
                "jwwx_admin_departments", admin_reads.departments_txn, list(ids)
            )
        )

    async def member_departments(
        self, userids: Sequence[str]
    ) -> dict[str, tuple[int, ...]]:
        if not userids or not self.loaded():
            return {}
        return dict(
            await self._api.run_db_interaction(
                "jwwx_admin_member_departments",
                admin_reads.member_departments_txn,
                list(userids),
            )
        )


@dataclass(frozen=True)
class GroupScope:
    """An admin's scope for one right: the grants of its groups that hold the right."""

    grants: tuple[Grant, ...]
    directory: DirectoryView

    @property
    def unrestricted(self) -> bool:
        return False

    @property
    def hidden_fields(self) -> frozenset[str]:
        # Several groups: a field is hidden only if every one of them hides it.
        hidden = self.grants[0].hidden_fields
        for grant in self.grants[1:]:
            hidden &= grant.hidden_fields
        return hidden

    def _covers(self, path: Sequence[int]) -> bool:
        return any(g.covers_path(path) for g in self.grants)

    async def filter(self, targets: Sequence[Target]) -> list[Target]:
        department_ids = [
            int(t.id) for t in targets if t.kind == "department" and t.id.isdigit()
        ]
        userids = [t.id for t in targets if t.kind == "member"]
        member_departments = await self.directory.member_departments(userids)
        wanted = department_ids + [d for ds in member_departments.values() for d in ds]
        nodes = await self.directory.departments(wanted)

        def covered(department_id: int) -> bool:
            node = nodes.get(department_id)
            return node is not None and self._covers(node.path_ids)

        kept: list[Target] = []
        for target in targets:
            if target.kind == "department":
                ok = target.id.isdigit() and covered(int(target.id))
            elif target.kind == "member":
                ok = any(covered(d) for d in member_departments.get(target.id, ()))
            elif target.kind == "app":
                ok = any(g.covers_app(target.id) for g in self.grants)
            elif target.kind == "setting":
                ok = True  # settings rights are the right itself
            else:  # "all": the whole directory is never a group's
                ok = False
            if ok:
                kept.append(target)
        return kept

    def covers_path(self, path: Sequence[int]) -> bool:
        return self._covers(path)


class AdminAuthority:
    def __init__(
        self, api: Any, config: AdminApiConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self.directory = DirectoryView(api)
        self._snapshot: Snapshot | None = None
        self._checked_ms = 0

    # The cached model.

    async def snapshot(self) -> Snapshot:
        now = int(self._api.get_current_time_msec())
        current = self._snapshot
        if current is not None and now - self._checked_ms < self._config.cache_check_ms:
            return current
        await self._runtime.ready()
        generation = await self._api.run_db_interaction(
            "jwwx_admin_generation", storage.generation_txn
        )
        self._checked_ms = now
        if current is not None and current.generation == generation:
            return current
        return await self.reload()

    async def reload(self) -> Snapshot:
        await self._runtime.ready()
        generation, groups, roles = await self._api.run_db_interaction(
            "jwwx_admin_load_model", storage.load_model_txn
        )
        snapshot = Snapshot.build(generation, groups, roles)
        self._snapshot = snapshot
        self._checked_ms = int(self._api.get_current_time_msec())
        return snapshot

    async def is_super(self, user_id: str) -> bool:
        return bool(await self._api.is_user_admin(user_id))

    # The decision API (modules.common.admin.Authority).

    async def admin_scope(self, user_id: str, scope: str) -> AdminScope | None:
        if await self.is_super(user_id):
            return Unrestricted()
        snapshot = await self.snapshot()
        right = right_of_scope(scope)
        roles = snapshot.roles_of(user_id)
        for role in (SECURITY, AUDIT):
            if role in roles and right in ROLE_RIGHTS[role]:
                return Unrestricted()
        if right not in RIGHTS:
            return None  # the super admin's alone
        grants = tuple(g for g in snapshot.grants_of(user_id) if right in g.rights)
        if not grants:
            return None
        return GroupScope(grants, self.directory)

    async def member_quotas(self) -> dict[int, int]:
        await self._runtime.ready()
        return dict(
            await self._api.run_db_interaction("jwwx_admin_quotas", storage.quotas_txn)
        )

    async def check_member_quota(
        self, department_ids: Sequence[int], adding: int
    ) -> None:
        quotas = await self.member_quotas()
        if not quotas or not self.directory.loaded():
            return
        unit, usage, total = await self._api.run_db_interaction(
            "jwwx_admin_unit_usage", admin_reads.unit_usage_txn, department_ids[0]
        )
        if unit is not None and unit.id in quotas and usage + adding > quotas[unit.id]:
            quota = quotas[unit.id]
            raise error(
                403,
                QUOTA_EXCEEDED,
                f"单位“{unit.name}”的授权人数为 {quota}，已有 {usage} 人，"
                f"不能再增加 {adding} 人",
                unit_id=unit.id,
                unit_name=unit.name,
                quota=quota,
                usage=usage,
                adding=adding,
            )
        if TOTAL_QUOTA_ID in quotas and total + adding > quotas[TOTAL_QUOTA_ID]:
            quota = quotas[TOTAL_QUOTA_ID]
            raise error(
                403,
                QUOTA_EXCEEDED,
                f"全局授权人数为 {quota}，已有 {total} 人，不能再增加 {adding} 人",
                unit_id=None,
                quota=quota,
                usage=total,
                adding=adding,
            )
