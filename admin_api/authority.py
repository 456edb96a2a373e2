# SPDX-License-Identifier: AGPL-3.0-or-later
"""admin_api's answer to the decision API of modules.common.admin.

The model (groups, members, scopes, roles) is held in memory as one Snapshot and
reloaded when its generation (a counter every change bumps, in the database) moves:
changes made through this process reload at once, other processes notice within
`cache_check_seconds`. Department paths and members' departments are cached the same
way (DirectoryView: the directory's own generation and change listener), so a warm
decision costs no query and a moved department counts at once in the process that moved
it, within `cache_check_seconds` elsewhere.

Super admins are the Synapse server admins (the bootstrap admin of `init` /
`create-admin`, and whoever a super admin gives the super role).
"""

import logging
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Any

from synapse.module_api import ModuleApi

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
    NETWORK_REFUSED,
    QUOTA_EXCEEDED,
    ROLE_ONLY_RIGHTS,
    AdminScope,
    Target,
    Unrestricted,
    client_ip,
    record_operation,
)
from modules.common.errors import error
from modules.common.inputs import decimal
from modules.common.runtime import ModuleRuntime
from modules.directory import admin_reads
from modules.directory import public as directory_public
from modules.directory.admin_reads import DepartmentNode

logger = logging.getLogger(__name__)

TOTAL_QUOTA_ID = 0


def _host_of(request: Any) -> str:
    raw = request.getHeader(b"host") if hasattr(request, "getHeader") else None
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw or "")
    text = text.strip().lower()
    if text.startswith("["):  # [v6]:port
        return text[1 : text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def _path_of(request: Any) -> str:
    path = getattr(request, "path", b"")
    return path.decode("ascii", "replace") if isinstance(path, bytes) else str(path)


class DirectoryView:
    """The directory's tree and memberships as admin_api reads them (its public reads,
    admin_reads), held in memory: loaded whole at the first decision (one transaction;
    at bureau size ~30,000 departments and ~60,000 memberships), then kept current from
    the directory's change records — a changed member is read again, a change of the
    tree (or an import) loads everything again. Changes made in this process apply at
    once (admin_reads' change listener); another process's within `cache_check_seconds`
    (changes_since_txn). A scope decision then costs no query."""

    def __init__(self, api: ModuleApi, check_ms: int = 1000) -> None:
        self._api = api
        self._check_ms = check_ms
        self._nodes: dict[int, DepartmentNode] = {}
        self._members: dict[str, tuple[int, ...]] = {}
        self._generation: int | None = None  # None: load everything
        self._stale: set[str] = set()  # changed members, read again when asked
        self._checked_ms = 0
        admin_reads.add_change_listener(api, self.changed)

    def loaded(self) -> bool:
        try:
            registry.lookup(self._api, directory_public.SERVICE)
        except registry.ServiceMissingError:
            return False
        return True

    def changed(self, userids: list[str] | None) -> None:
        if userids is None:
            self._generation = None
        else:
            self._stale.update(userids)

    async def _current(self) -> None:
        now = int(self._api.get_current_time_msec())
        known = self._generation
        if known is not None and known >= 0:
            if now - self._checked_ms < self._check_ms:
                return
            generation, everything, userids = await self._api.run_db_interaction(
                "jwwx_admin_directory_changes", admin_reads.changes_since_txn, known
            )
            self._checked_ms = now
            self._stale.update(userids)
            if not everything:
                if self._generation == known:  # no local change or load meanwhile
                    self._generation = generation
                return
        # Load everything (-1: loading; requests meanwhile load too, rather than answer
        # from a half-filled view; a local change meanwhile sets None again).
        self._generation = -1
        generation, nodes, members = await self._api.run_db_interaction(
            "jwwx_admin_directory_load", admin_reads.all_scope_facts_txn
        )
        self._nodes, self._members = nodes, members
        self._checked_ms = now
        if self._generation == -1:
            self._generation = generation

    async def departments(self, ids: Sequence[int]) -> dict[int, DepartmentNode]:
        nodes, _members = await self.facts(ids, ())
        return nodes

    async def facts(
        self, department_ids: Sequence[int], userids: Sequence[str]
    ) -> tuple[dict[int, DepartmentNode], dict[str, tuple[int, ...]]]:
        """Department paths and members' departments (no query once current)."""
        if (not department_ids and not userids) or not self.loaded():
            return {}, {}
        await self._current()
        stale = [u for u in userids if u in self._stale]
        if stale:
            self._stale.difference_update(stale)
            fresh = await self._api.run_db_interaction(
                "jwwx_admin_member_departments",
                admin_reads.member_departments_txn,
                stale,
            )
            for userid in stale:
                if userid in fresh:
                    self._members[userid] = tuple(fresh[userid])
                else:
                    self._members.pop(userid, None)
        members = {u: self._members[u] for u in userids if u in self._members}
        wanted = set(department_ids)
        for ids in members.values():
            wanted.update(ids)
        nodes = {d: self._nodes[d] for d in wanted if d in self._nodes}
        return nodes, members


class GroupScope:
    """An admin's scope for one right: the grants of its groups that hold the right.
    One per request: what it read of the directory is remembered for the request."""

    def __init__(self, grants: tuple[Grant, ...], directory: DirectoryView) -> None:
        self.grants = grants
        self.directory = directory
        self._nodes: dict[int, DepartmentNode | None] = {}
        self._members: dict[str, tuple[int, ...]] = {}

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

    def covers_path(self, path: Sequence[int]) -> bool:
        return any(g.covers_path(path) for g in self.grants)

    async def _learn(self, department_ids: list[int], userids: list[str]) -> None:
        new_departments = [d for d in department_ids if d not in self._nodes]
        new_members = [u for u in userids if u not in self._members]
        if not new_departments and not new_members:
            return
        nodes, members = await self.directory.facts(new_departments, new_members)
        for userid in new_members:
            self._members[userid] = members.get(userid, ())
        for department_id in {
            *new_departments,
            *(d for ds in members.values() for d in ds),
        }:
            if department_id not in self._nodes:
                self._nodes[department_id] = nodes.get(department_id)

    def _covered(self, department_id: int) -> bool:
        node = self._nodes.get(department_id)
        return node is not None and self.covers_path(node.path_ids)

    async def filter(self, targets: Sequence[Target]) -> list[Target]:
        await self._learn(
            [
                int(t.id)
                for t in targets
                if t.kind == "department" and decimal(t.id) is not None
            ],
            [t.id for t in targets if t.kind == "member"],
        )
        kept: list[Target] = []
        for target in targets:
            if target.kind == "department":
                number = decimal(target.id)
                ok = number is not None and self._covered(number)
            elif target.kind == "member":
                ok = any(self._covered(d) for d in self._members.get(target.id, ()))
            elif target.kind == "app":
                ok = any(g.covers_app(target.id) for g in self.grants)
            elif target.kind == "setting":
                ok = True  # settings rights are the right itself
            else:  # "all": the whole directory is never a group's
                ok = False
            if ok:
                kept.append(target)
        return kept


class AdminAuthority:
    def __init__(
        self, api: ModuleApi, config: AdminApiConfig, runtime: ModuleRuntime
    ) -> None:
        self._api = api
        self._config = config
        self._runtime = runtime
        self.directory = DirectoryView(api, config.cache_check_ms)
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
        snapshot = await self.snapshot()
        right = right_of_scope(scope)
        roles = snapshot.roles_of(user_id)
        for role in (SECURITY, AUDIT):
            if role in roles and right in ROLE_RIGHTS[role]:
                return Unrestricted()
        if right in ROLE_ONLY_RIGHTS:
            return None  # the audit role's alone: not the super admin's (三员分立)
        if await self.is_super(user_id):
            return Unrestricted()
        if right not in RIGHTS:
            return None  # the super admin's alone
        grants = tuple(g for g in snapshot.grants_of(user_id) if right in g.rights)
        if not grants:
            return None
        return GroupScope(grants, self.directory)

    async def check_request(self, request: Any, user_id: str) -> None:
        config = self._config
        if not config.allowed_networks and not config.allowed_hosts:
            return
        ip = client_ip(request)
        host = _host_of(request)
        problem = ""
        if config.allowed_networks:
            try:
                address = ip_address(ip)
                allowed = any(address in n for n in config.allowed_networks)
            except ValueError:
                allowed = False
            if not allowed:
                problem = f"不允许从地址 {ip or '未知'} 访问管理接口"
        if not problem and config.allowed_hosts and host not in config.allowed_hosts:
            problem = f"不允许通过域名 {host or '未知'} 访问管理接口"
        if problem:
            await record_operation(
                self._api,
                request,
                user_id,
                "admin.access.refused",
                f"path:{_path_of(request)}",
                None,
                None,
                host=host,
                reason=problem,
            )
            raise error(403, NETWORK_REFUSED, problem, ip=ip, host=host)

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
