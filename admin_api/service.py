# SPDX-License-Identifier: AGPL-3.0-or-later
"""Changes to the administration model: admin groups, roles, unit quotas.

Every change is validated and written in one serialized transaction that reads the
model afresh (two admins editing groups at once cannot build a cycle between them),
then the cached model is reloaded and one operation-log record goes to the audit
archive (modules.audit.public, the path keyword-list edits take): operator, source IP,
operation, target, before and after. Bad input changes nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from synapse.module_api import ModuleApi

from admin_api import errors, storage
from admin_api.authority import TOTAL_QUOTA_ID, AdminAuthority
from admin_api.config import AdminApiConfig
from admin_api.errors import invalid
from admin_api.model import (
    ALL_APPS,
    AUDIT,
    HIDEABLE_FIELDS,
    RIGHTS,
    ROLE_NAMES,
    ROLES,
    SECURITY,
    SUPER,
    Group,
    Snapshot,
    intersect_apps,
)
from modules.audit.public import record_admin_operation
from modules.common.admin import ADMIN_SCOPE
from modules.common.errors import error, forbidden
from modules.common.storage import Txn
from modules.common.synapse.database import run_serialized_write
from modules.directory import admin_reads

T = TypeVar("T")

MAX_NAME = 64
MAX_LIST = 10000
LOCK = "jwwx_admin_model_write"
SEPARATED = frozenset({AUDIT, SECURITY})
_USER_ID = re.compile(r"^@[^:\s]+:\S+$")


@dataclass(frozen=True)
class GroupFields:
    """A group body as given (None: not given)."""

    name: str | None = None
    parent_id: int | None = None
    parent_given: bool = False
    members: frozenset[str] | None = None
    scope: frozenset[int] | None = None
    rights: frozenset[str] | None = None
    apps: frozenset[str] | None = None
    hidden_fields: frozenset[str] | None = None


def _strings(body: dict[str, Any], key: str) -> frozenset[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, str) and v.strip() for v in value)
    ):
        raise invalid(f"{key} 必须是非空字符串数组")
    return frozenset(v.strip() for v in value)


def _department_ids(body: dict[str, Any], key: str) -> frozenset[int] | None:
    value = body.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, list)
        or len(value) > MAX_LIST
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise invalid(f"{key} 必须是部门ID（整数）数组")
    return frozenset(value)


def parse_group(body: dict[str, Any], creating: bool) -> GroupFields:
    known = {"name", "parent_id", "members", "scope", "rights", "apps", "hidden_fields"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise invalid(f"未知字段：{', '.join(unknown)}")
    name = body.get("name")
    if name is not None or creating:
        if (
            not isinstance(name, str)
            or not name.strip()
            or len(name.strip()) > MAX_NAME
        ):
            raise invalid(f"name 不能为空，且不超过 {MAX_NAME} 个字符")
        name = name.strip()
    parent = body.get("parent_id")
    if parent is not None and (not isinstance(parent, int) or isinstance(parent, bool)):
        raise invalid("parent_id 必须是管理组ID（整数）或 null")
    fields = GroupFields(
        name=name,
        parent_id=parent,
        parent_given="parent_id" in body,
        members=_strings(body, "members"),
        scope=_department_ids(body, "scope"),
        rights=_strings(body, "rights"),
        apps=_strings(body, "apps"),
        hidden_fields=_strings(body, "hidden_fields"),
    )
    bad_rights = sorted((fields.rights or frozenset()) - set(RIGHTS))
    if bad_rights:
        raise error(
            400,
            errors.RIGHT_UNKNOWN,
            f"未知权限：{', '.join(bad_rights)}",
            unknown=bad_rights,
            known=list(RIGHTS),
        )
    bad_fields = sorted((fields.hidden_fields or frozenset()) - set(HIDEABLE_FIELDS))
    if bad_fields:
        raise error(
            400,
            errors.RIGHT_UNKNOWN,
            f"不能隐藏的字段：{', '.join(bad_fields)}",
            unknown=bad_fields,
            known=list(HIDEABLE_FIELDS),
        )
    bad_users = sorted(u for u in fields.members or () if not _USER_ID.match(u))
    if bad_users:
        raise invalid(
            f"members 应为 Matrix 用户ID（@账号:域名）：{', '.join(bad_users)}"
        )
    return fields


def _group_not_found(group_id: int) -> Exception:
    return error(404, errors.GROUP_NOT_FOUND, f"管理组 {group_id} 不存在")


def _outside(message: str) -> Exception:
    return error(403, ADMIN_SCOPE, f"超出管理范围：{message}，未做任何修改")


class AdminService:
    def __init__(
        self, api: ModuleApi, config: AdminApiConfig, authority: AdminAuthority
    ) -> None:
        self._api = api
        self._config = config
        self._authority = authority

    def _now(self) -> int:
        return int(self._api.get_current_time_msec())

    async def _write(self, desc: str, fn: Callable[..., T], *args: Any) -> T:
        result = await run_serialized_write(
            self._api, f"jwwx_admin_{desc}", LOCK, fn, *args
        )
        await self._authority.reload()
        return result

    async def _log(
        self,
        actor: str,
        ip: str,
        action: str,
        target: str,
        before: Any,
        after: Any,
        **detail: Any,
    ) -> None:
        await record_admin_operation(
            self._api, actor, action, target, before, after, ip=ip, **detail
        )

    async def _check_users(self, user_ids: frozenset[str] | None) -> None:
        missing = []
        for user_id in sorted(user_ids or ()):
            if await self._api.check_user_exists(user_id) is None:
                missing.append(user_id)
        if missing:
            raise error(
                400,
                errors.USER_UNKNOWN,
                f"账号不存在：{', '.join(missing)}",
                unknown=missing,
            )

    # Reading groups.

    async def visible_groups(self, actor: str) -> tuple[Snapshot, set[int]]:
        """The snapshot and the ids of the groups the actor may see: all (super), or
        its own groups and the ones it manages; 403 for an account that is neither."""
        snapshot = await self._authority.snapshot()
        if await self._authority.is_super(actor):
            return snapshot, set(snapshot.groups)
        own = set(snapshot.member_groups.get(actor, []))
        if not own:
            raise forbidden("需要管理员权限")
        return snapshot, own | snapshot.managed_groups(actor)

    async def list_groups(self, actor: str) -> dict[str, Any]:
        snapshot, visible = await self.visible_groups(actor)
        return {
            "groups": [
                snapshot.groups[g].to_json(snapshot.grants[g]) for g in sorted(visible)
            ]
        }

    async def get_group(self, actor: str, group_id: int) -> dict[str, Any]:
        snapshot, visible = await self.visible_groups(actor)
        if group_id not in snapshot.groups:
            raise _group_not_found(group_id)
        if group_id not in visible:
            raise _outside(f"管理组 {group_id}")
        return snapshot.groups[group_id].to_json(snapshot.grants[group_id])

    async def me(self, actor: str) -> dict[str, Any]:
        snapshot = await self._authority.snapshot()
        roles = set(snapshot.roles_of(actor))
        if await self._authority.is_super(actor):
            roles.add(SUPER)
        return {
            "user_id": actor,
            "roles": sorted(roles),
            "groups": [
                {
                    "id": grant.group_id,
                    "name": snapshot.groups[grant.group_id].name,
                    "rights": sorted(grant.rights),
                    "scope": sorted(snapshot.groups[grant.group_id].scope),
                    "apps": sorted(grant.apps),
                    "hidden_fields": sorted(grant.hidden_fields),
                }
                for grant in snapshot.grants_of(actor)
            ],
            "manages_groups": sorted(snapshot.managed_groups(actor)),
        }

    # Validation inside the write transaction.

    def _validate_txn(
        self,
        txn: Txn,
        snapshot: Snapshot,
        group: Group,
    ) -> None:
        """Scope departments exist; rights, apps, fields and scope within the parent's
        effective ones; no cycle; the name unique among its siblings; no audit or
        security admin among its members (三员分立)."""
        if not self._config.allow_combined_roles:
            separated = sorted(
                u for u in group.members if snapshot.roles_of(u) & SEPARATED
            )
            if separated:
                raise error(
                    409,
                    errors.ROLE_CONFLICT,
                    "三员分立：审计管理员、安全管理员不能加入管理组："
                    + "、".join(separated),
                    members=separated,
                )
        if group.scope and not self._authority.directory.loaded():
            raise error(400, errors.SCOPE_INVALID, "通讯录模块未加载，无法设置管理范围")
        nodes = (
            admin_reads.departments_txn(txn, sorted(group.scope)) if group.scope else {}
        )
        missing = sorted(group.scope - set(nodes))
        if missing:
            raise error(
                400,
                errors.SCOPE_INVALID,
                f"管理范围中的部门不存在：{', '.join(map(str, missing))}",
                missing=missing,
            )
        for sibling in snapshot.groups.values():
            if (
                sibling.id != group.id
                and sibling.parent_id == group.parent_id
                and sibling.name == group.name
            ):
                raise error(
                    409,
                    errors.GROUP_EXISTS,
                    f"同一上级下已有名为“{group.name}”的管理组",
                )
        if group.parent_id is None:
            return
        if group.parent_id not in snapshot.groups:
            raise error(
                400, errors.GROUP_NOT_FOUND, f"上级管理组 {group.parent_id} 不存在"
            )
        if group.parent_id == group.id or group.parent_id in snapshot.descendants(
            group.id
        ):
            raise error(
                400,
                errors.GROUP_CYCLE,
                f"不能把管理组 {group.id} 移到它自己或它的下级管理组 "
                f"{group.parent_id} 之下",
            )
        parent = snapshot.grants[group.parent_id]
        problems: dict[str, Any] = {}
        extra_rights = sorted(group.rights - parent.rights)
        if extra_rights:
            problems["rights"] = extra_rights
        if intersect_apps(parent.apps, group.apps) != group.apps:
            problems["apps"] = sorted(
                group.apps if ALL_APPS in group.apps else group.apps - parent.apps
            )
        shown = sorted(parent.hidden_fields - group.hidden_fields)
        if shown:
            problems["hidden_fields"] = shown
        outside = sorted(
            d for d, node in nodes.items() if not parent.covers_path(node.path_ids)
        )
        if outside:
            problems["scope"] = outside
        if problems:
            parts = []
            if "rights" in problems:
                parts.append("权限 " + "、".join(problems["rights"]))
            if "apps" in problems:
                parts.append("应用 " + "、".join(problems["apps"]))
            if "hidden_fields" in problems:
                parts.append("上级隐藏的字段 " + "、".join(problems["hidden_fields"]))
            if "scope" in problems:
                parts.append("部门 " + "、".join(map(str, problems["scope"])))
            raise error(
                400,
                errors.RIGHTS_EXCEED,
                "下级管理组的权限不能超出上级管理组：" + "；".join(parts),
                exceeding=problems,
            )

    # Writing groups.

    async def create_group(
        self, actor: str, ip: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        fields = parse_group(body, creating=True)
        await self._check_users(fields.members)
        is_super = await self._authority.is_super(actor)
        now = self._now()

        def create_txn(txn: Txn) -> Group:
            snapshot = Snapshot.build(*storage.load_model_txn(txn))
            if not is_super:
                if fields.parent_id is None:
                    raise forbidden("只有超级管理员可以创建顶级管理组")
                if fields.parent_id not in snapshot.parents_for_new_groups(actor):
                    raise _outside(f"不能在管理组 {fields.parent_id} 下创建下级管理组")
            group = Group(
                id=storage.next_group_id_txn(txn),
                name=fields.name or "",
                parent_id=fields.parent_id,
                rights=fields.rights or frozenset(),
                apps=fields.apps or frozenset(),
                hidden_fields=fields.hidden_fields or frozenset(),
                scope=fields.scope or frozenset(),
                members=fields.members or frozenset(),
                created_by=actor,
                created_ts=now,
                updated_by=actor,
                updated_ts=now,
            )
            self._validate_txn(txn, snapshot, group)
            storage.save_group_txn(txn, group, True)
            return group

        group = await self._write("create_group", create_txn)
        after = group.to_json()
        await self._log(
            actor, ip, "admin.group.create", f"admin_group:{group.id}", None, after
        )
        return await self.get_group(actor, group.id)

    async def update_group(
        self, actor: str, ip: str, group_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        fields = parse_group(body, creating=False)
        await self._check_users(fields.members)
        is_super = await self._authority.is_super(actor)
        now = self._now()

        def update_txn(txn: Txn) -> tuple[Group, Group]:
            snapshot = Snapshot.build(*storage.load_model_txn(txn))
            before = snapshot.groups.get(group_id)
            if before is None:
                raise _group_not_found(group_id)
            if not is_super:
                if group_id not in snapshot.managed_groups(actor):
                    raise _outside(f"管理组 {group_id} 不由您管理")
                if fields.parent_given and (
                    fields.parent_id is None
                    or fields.parent_id not in snapshot.parents_for_new_groups(actor)
                ):
                    raise _outside(f"不能把管理组移到 {fields.parent_id} 之下")
            after = replace(
                before,
                name=fields.name if fields.name is not None else before.name,
                parent_id=fields.parent_id if fields.parent_given else before.parent_id,
                members=before.members if fields.members is None else fields.members,
                scope=before.scope if fields.scope is None else fields.scope,
                rights=before.rights if fields.rights is None else fields.rights,
                apps=before.apps if fields.apps is None else fields.apps,
                hidden_fields=(
                    before.hidden_fields
                    if fields.hidden_fields is None
                    else fields.hidden_fields
                ),
                updated_by=actor,
                updated_ts=now,
            )
            self._validate_txn(txn, snapshot, after)
            storage.save_group_txn(txn, after, False)
            return before, after

        before, after = await self._write("update_group", update_txn)
        await self._log(
            actor,
            ip,
            "admin.group.update",
            f"admin_group:{group_id}",
            before.to_json(),
            after.to_json(),
        )
        return await self.get_group(actor, group_id)

    async def delete_group(self, actor: str, ip: str, group_id: int) -> None:
        is_super = await self._authority.is_super(actor)

        def delete_txn(txn: Txn) -> Group:
            snapshot = Snapshot.build(*storage.load_model_txn(txn))
            group = snapshot.groups.get(group_id)
            if group is None:
                raise _group_not_found(group_id)
            if not is_super and group_id not in snapshot.managed_groups(actor):
                raise _outside(f"管理组 {group_id} 不由您管理")
            children = sorted(snapshot.descendants(group_id))
            if children:
                raise error(
                    400,
                    errors.GROUP_HAS_CHILDREN,
                    f"管理组 {group_id} 还有下级管理组，请先删除它们",
                    children=children,
                )
            storage.delete_group_txn(txn, group_id)
            return group

        group = await self._write("delete_group", delete_txn)
        await self._log(
            actor,
            ip,
            "admin.group.delete",
            f"admin_group:{group_id}",
            group.to_json(),
            None,
        )

    # Roles (super admin only; the resource checks).

    async def list_roles(self) -> dict[str, Any]:
        rows = await self._api.run_db_interaction(
            "jwwx_admin_list_roles", storage.list_roles_txn
        )
        return {"roles": rows, "role_names": ROLE_NAMES}

    async def current_roles(self, user_id: str) -> frozenset[str]:
        snapshot = await self._authority.reload()
        roles = set(snapshot.roles_of(user_id))
        if await self._authority.is_super(user_id):
            roles.add(SUPER)
        else:
            roles.discard(SUPER)
        return frozenset(roles)

    async def set_roles(
        self, actor: str, ip: str, user_id: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        unknown_keys = sorted(set(body) - {"roles"})
        if unknown_keys:
            raise invalid(f"未知字段：{', '.join(unknown_keys)}")
        roles = _strings(body, "roles")
        if roles is None:
            raise error(400, "M_MISSING_PARAM", "缺少 roles 字段（可为空数组）")
        unknown = sorted(roles - set(ROLES))
        if unknown:
            raise error(
                400,
                errors.ROLE_UNKNOWN,
                f"未知角色：{', '.join(unknown)}（可选：super、audit、security）",
                unknown=unknown,
                known=list(ROLES),
            )
        if len(roles) > 1 and not self._config.allow_combined_roles:
            names = "、".join(ROLE_NAMES[r] for r in ROLES if r in roles)
            raise error(
                409,
                errors.ROLE_CONFLICT,
                f"三员分立：同一账号不能兼任 {names}（配置 allow_combined_roles 可放开）",
                roles=sorted(roles),
            )
        if not _USER_ID.match(user_id):
            raise invalid(f"用户ID“{user_id}”不合法")
        await self._check_users(frozenset({user_id}))
        before = await self.current_roles(user_id)
        if user_id == actor and SUPER in before and SUPER not in roles:
            raise forbidden("不能撤销自己的超级管理员角色")
        now = self._now()

        def roles_txn(txn: Txn) -> None:
            if roles & SEPARATED and not self._config.allow_combined_roles:
                snapshot = Snapshot.build(*storage.load_model_txn(txn))
                groups = sorted(snapshot.member_groups.get(user_id, []))
                if groups:
                    raise error(
                        409,
                        errors.ROLE_CONFLICT,
                        f"三员分立：{user_id} 是管理组 "
                        + "、".join(map(str, groups))
                        + " 的成员，不能再担任审计管理员或安全管理员",
                        groups=groups,
                    )
            storage.set_roles_txn(txn, user_id, roles, actor, now)

        await self._write("set_roles", roles_txn)
        if (SUPER in roles) != (SUPER in before):
            await self._api.set_user_admin(user_id, SUPER in roles)
        await self._log(
            actor,
            ip,
            "admin.roles.set",
            f"user:{user_id}",
            sorted(before),
            sorted(roles),
        )
        return {"user_id": user_id, "roles": sorted(roles)}

    # Unit quotas (二级单位授权人数).

    async def quotas(self) -> dict[str, Any]:
        quotas = await self._api.run_db_interaction(
            "jwwx_admin_quotas", storage.quotas_txn
        )
        units: list[admin_reads.UnitUsage] = []
        total = 0
        if self._authority.directory.loaded():
            units, total = await self._api.run_db_interaction(
                "jwwx_admin_units_usage", admin_reads.units_usage_txn
            )

        def row(quota: int | None, usage: int) -> dict[str, Any]:
            return {
                "quota": quota,
                "usage": usage,
                "over_quota": quota is not None and usage > quota,
            }

        return {
            "units": [
                {"id": u.id, "name": u.name, **row(quotas.get(u.id), u.usage)}
                for u in units
            ],
            "total": row(quotas.get(TOTAL_QUOTA_ID), total),
        }

    async def set_quota(
        self, actor: str, ip: str, unit: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        unknown_keys = sorted(set(body) - {"quota"})
        if unknown_keys:
            raise invalid(f"未知字段：{', '.join(unknown_keys)}")
        if "quota" not in body:
            raise error(
                400, "M_MISSING_PARAM", "缺少 quota 字段（整数，null 表示不限）"
            )
        quota = body["quota"]
        if quota is not None and (
            not isinstance(quota, int)
            or isinstance(quota, bool)
            or not 0 <= quota <= 10**7
        ):
            raise invalid("quota 必须是 0 到 10000000 之间的整数，或 null（不限）")
        if unit == "total":
            unit_id, name = TOTAL_QUOTA_ID, "全局"
        else:
            if not re.fullmatch(r"[0-9]{1,12}", unit) or int(unit) == TOTAL_QUOTA_ID:
                raise invalid(f"单位ID“{unit}”不合法")
            unit_id = int(unit)
            if not self._authority.directory.loaded():
                raise error(400, errors.QUOTA_NOT_UNIT, "通讯录模块未加载")
            nodes = await self._api.run_db_interaction(
                "jwwx_admin_departments", admin_reads.departments_txn, [unit_id]
            )
            node = nodes.get(unit_id)
            if node is None:
                raise error(
                    404, "CN_JWWX_DEPARTMENT_NOT_FOUND", f"部门 {unit_id} 不存在"
                )
            if len(node.path_ids) != admin_reads.UNIT_DEPTH + 1:
                raise error(
                    400,
                    errors.QUOTA_NOT_UNIT,
                    f"部门 {unit_id}（{node.name}）不是二级单位：授权人数只能按二级单位设置",
                )
            name = node.name
        before = (
            await self._api.run_db_interaction("jwwx_admin_quotas", storage.quotas_txn)
        ).get(unit_id)
        await self._write(
            "set_quota", storage.set_quota_txn, unit_id, quota, actor, self._now()
        )
        listing = await self.quotas()
        if unit_id == TOTAL_QUOTA_ID:
            usage = int(listing["total"]["usage"])
        else:
            usage = next(
                (u["usage"] for u in listing["units"] if u["id"] == unit_id), 0
            )
        result: dict[str, Any] = {
            "unit_id": None if unit_id == TOTAL_QUOTA_ID else unit_id,
            "name": name,
            "quota": quota,
            "usage": usage,
            "over_quota": quota is not None and usage > quota,
        }
        if result["over_quota"]:
            result["warning"] = (
                f"“{name}”已有 {usage} 人，超过新的授权人数 {quota}：已保存，"
                "现有成员不受影响，但在降到授权人数以下之前不能再新增或启用成员"
            )
        await self._log(
            actor,
            ip,
            "admin.quota.set",
            f"unit:{'total' if unit_id == TOTAL_QUOTA_ID else unit_id}",
            before,
            quota,
            usage=usage,
        )
        return result
