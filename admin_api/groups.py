# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admin groups: reading what the caller may see, and creating, changing, deleting
them within the caller's rights (changes.py: how a change is written and logged)."""

from dataclasses import replace
from typing import Any

from admin_api import errors, storage
from admin_api.changes import SEPARATED, ModelChanges, outside
from admin_api.group_fields import parse_group
from admin_api.model import ALL_APPS, SUPER, Group, Snapshot, intersect_apps
from modules.common.errors import error, forbidden
from modules.common.storage import Txn
from modules.directory import admin_reads


def _group_not_found(group_id: int) -> Exception:
    return error(404, errors.GROUP_NOT_FOUND, f"管理组 {group_id} 不存在")


class GroupService(ModelChanges):
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
            raise outside(f"管理组 {group_id}")
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
            snapshot = self._model_txn(txn)
            if not is_super:
                if fields.parent_id is None:
                    raise forbidden("只有超级管理员可以创建顶级管理组")
                if fields.parent_id not in snapshot.parents_for_new_groups(actor):
                    raise outside(f"不能在管理组 {fields.parent_id} 下创建下级管理组")
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

    async def grant_created_app(self, actor: str, app_id: str) -> list[int]:
        """The app `actor` (not a super admin) just created goes into the `apps` of
        its groups whose effective rights hold apps.create and apps.manage and that do
        not cover it yet, when the group's parent covers it (a top-level group: the
        super admin gave it apps.create); the ids of the groups changed. Logged by the
        caller as part of the create (openapi.app.create, detail admin_groups)."""
        now = self._now()

        def grant_txn(txn: Txn) -> list[int]:
            snapshot = self._model_txn(txn)
            changed: list[int] = []
            for grant in snapshot.grants_of(actor):
                if not {"apps.create", "apps.manage"} <= grant.rights:
                    continue
                if grant.covers_app(app_id):
                    continue
                group = snapshot.groups[grant.group_id]
                if group.parent_id is not None and not snapshot.grants[
                    group.parent_id
                ].covers_app(app_id):
                    continue  # the parent does not allow this app: nothing to give
                after = replace(
                    group, apps=group.apps | {app_id}, updated_by=actor, updated_ts=now
                )
                storage.save_group_txn(txn, after, False)
                changed.append(group.id)
            return sorted(changed)

        return await self._write("grant_app", grant_txn)

    async def update_group(
        self, actor: str, ip: str, group_id: int, body: dict[str, Any]
    ) -> dict[str, Any]:
        fields = parse_group(body, creating=False)
        await self._check_users(fields.members)
        is_super = await self._authority.is_super(actor)
        now = self._now()

        def update_txn(txn: Txn) -> tuple[Group, Group]:
            snapshot = self._model_txn(txn)
            before = snapshot.groups.get(group_id)
            if before is None:
                raise _group_not_found(group_id)
            if not is_super:
                if group_id not in snapshot.managed_groups(actor):
                    raise outside(f"管理组 {group_id} 不由您管理")
                if fields.parent_given and (
                    fields.parent_id is None
                    or fields.parent_id not in snapshot.parents_for_new_groups(actor)
                ):
                    raise outside(f"不能把管理组移到 {fields.parent_id} 之下")
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
            snapshot = self._model_txn(txn)
            group = snapshot.groups.get(group_id)
            if group is None:
                raise _group_not_found(group_id)
            if not is_super and group_id not in snapshot.managed_groups(actor):
                raise outside(f"管理组 {group_id} 不由您管理")
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
