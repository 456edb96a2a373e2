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
from collections.abc import Awaitable, Callable, Sequence
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
_ALWAYS = 1 << 62  # a stale mark no generation clears: read again regardless


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
    the directory's change records — a member changed by another process is read again
    when next asked, a change of the tree (or an import) loads everything again. Writes
    made in this process apply at once (admin_reads' change listener hands over the
    members' departments as written: no read). Other processes' changes are looked for
    in the background every half `cache_check_seconds`, and by a request only when that
    check is older than `cache_check_seconds`: a scope decision then costs no query."""

    def __init__(self, api: ModuleApi, check_ms: int = 1000) -> None:
        self._api = api
        self._check_ms = check_ms
        self._nodes: dict[int, DepartmentNode] = {}
        self._members: dict[str, tuple[int, ...]] = {}
        self._generation: int | None = None  # None: load everything
        # Members to read again, with the generation their change reached (the reason).
        self._stale: dict[str, int] = {}
        # Members whose departments this process wrote, and at which generation.
        self._applied: dict[str, int] = {}
        self._checked_ms = 0
        self._checking = False
        self._background = False
        admin_reads.add_change_listener(api, self.changed)

    def loaded(self) -> bool:
        try:
            registry.lookup(self._api, directory_public.SERVICE)
        except registry.ServiceMissingError:
            return False
        return True

    def changed(
        self, userids: list[str] | None, written: admin_reads.Written | None = None
    ) -> None:
        if userids is None:
            self._generation = None
            return
        if self._generation is None:
            return  # everything is read at the next decision anyway
        if written is None or self._generation < 0:
            for userid in userids:  # failed, or a load is running: read again
                self._stale[userid] = _ALWAYS
            return
        for userid in userids:
            if self._applied.get(userid, -1) > written.generation:
                continue  # a later write of this process is already applied
            self._applied[userid] = written.generation
            if self._stale.get(userid, -1) <= written.generation:
                self._stale.pop(userid, None)  # the write saw that change
            found = written.departments.get(userid)
            if found:
                self._members[userid] = found
            else:
                self._members.pop(userid, None)

    def _start_background(self) -> None:
        if self._background:
            return
        self._background = True
        # Every process keeps its own view: the check runs on all of them.
        self._api.looping_background_call(
            self._check_in_background,
            max(50, self._check_ms // 2),
            run_on_all_instances=True,
        )

    async def _check_in_background(self) -> None:
        if self._generation is None or self._generation < 0 or self._checking:
            return
        try:
            await self._check()
        except Exception:
            logger.exception("directory change check")

    async def _check(self) -> bool:
        """Take in other processes' changes; False when everything must be loaded."""
        known = self._generation
        if known is None or known < 0:
            return False
        self._checking = True
        try:
            now = int(self._api.get_current_time_msec())
            generation, everything, changes = await self._api.run_db_interaction(
                "jwwx_admin_directory_changes", admin_reads.changes_since_txn, known
            )
        finally:
            self._checking = False
        if everything:
            self._generation = None
            return False
        for userid, at in changes.items():
            if self._applied.get(userid, -1) < at:  # not this process's own write
                self._stale[userid] = max(at, self._stale.get(userid, -1))
        if self._generation == known:  # no local load meanwhile
            self._generation = generation
            # Own writes older than the checked generation are no longer reported.
            self._applied = {u: g for u, g in self._applied.items() if g > generation}
        self._checked_ms = max(self._checked_ms, now)
        return True

    async def _current(self) -> None:
        now = int(self._api.get_current_time_msec())
        known = self._generation
        if (
            known is not None
            and known >= 0
            and (now - self._checked_ms < self._check_ms or await self._check())
        ):
            return
        # Load everything (-1: loading; requests meanwhile load too, rather than answer
        # from a half-filled view; a local change meanwhile sets None again).
        self._generation = -1
        generation, nodes, members = await self._api.run_db_interaction(
            "jwwx_admin_directory_load", admin_reads.all_scope_facts_txn
        )
        self._nodes, self._members = nodes, members
        self._stale = {u: g for u, g in self._stale.items() if g > generation}
        self._applied = {}
        self._checked_ms = now
        if self._generation == -1:
            self._generation = generation
        self._start_background()

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
            for userid in stale:
                self._stale.pop(userid, None)
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
        self._quotas: dict[int, int] = {}
        # The group service's answer to app_created (set by AdminApiModule: the
        # service is built on this authority).
        self.app_granter: Callable[[str, str], Awaitable[list[int]]] | None = None
        self._checked_ms = 0

    # The cached model.

    @property
    def cached_snapshot(self) -> Snapshot | None:
        """The model as last loaded (maybe stale: compare its generation)."""
        return self._snapshot

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
        (generation, groups, roles), quotas = await self._api.run_db_interaction(
            "jwwx_admin_load_model", storage.load_model_and_quotas_txn
        )
        snapshot = Snapshot.build(generation, groups, roles)
        self._snapshot = snapshot
        self._quotas = quotas
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

    async def app_created(self, user_id: str, app_id: str) -> list[int]:
        if self.app_granter is None or await self.is_super(user_id):
            return []
        return await self.app_granter(user_id, app_id)

    async def member_quotas(self) -> dict[int, int]:
        """Cached with the model: no query on a warm cache (every member write asks)."""
        await self.snapshot()
        return dict(self._quotas)

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
