# SPDX-License-Identifier: AGPL-3.0-or-later
"""The administration model (docs/admin.md): roles, admin groups, rights, and what an
admin's groups add up to. Pure data and rules; storage.py keeps it, authority.py
answers the decision API with it, service.py (groups.py, roles.py, quotas.py) changes it.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modules.common.admin import ROLE_ONLY_RIGHTS

# The three separated roles (三员分立), assigned at run time.
SUPER = "super"
AUDIT = "audit"
SECURITY = "security"
ROLES = (SUPER, AUDIT, SECURITY)
ROLE_NAMES = {SUPER: "超级管理员", AUDIT: "审计管理员", SECURITY: "安全管理员"}

# Rights an admin group may hold (a sub-group holds a subset of its parent's).
DIRECTORY_RIGHTS = (
    "directory.view",  # 查看通讯录
    "directory.edit_structure",  # 编辑组织架构（部门）
    "directory.edit_members",  # 编辑成员
    "directory.import_export",  # 导入导出
    "directory.reset_password",  # 重置密码
    "directory.enable_disable",  # 启用/禁用成员
)
APP_RIGHTS = (
    "apps.manage",  # manage the apps listed in the group's `apps`
    "apps.create",  # create open-API apps
    "apps.workbench",  # 工作台: entries (an app's entry also needs that app in `apps`)
)
SETTINGS_RIGHTS = (
    "settings.keywords",  # 敏感词
    "settings.watermark",  # 水印与分享
    "settings.retention",  # 消息保留期
    "settings.group_caps",  # 群人数上限等群设置
    "settings.mfa_device",  # 二次验证与设备策略
)
GROUP_RIGHTS = ("groups.create_subgroups",)  # 可创建下级管理组
DOCS_RIGHTS = (
    "docs.manage",  # 文档管理员: the documents of owners in the group's scope
    "docs.templates",  # 业务模板: add and remove the bureau's document templates
)
RIGHTS = DIRECTORY_RIGHTS + APP_RIGHTS + SETTINGS_RIGHTS + GROUP_RIGHTS + DOCS_RIGHTS

# Member fields a group's admins may be denied (field-level visibility).
HIDEABLE_FIELDS = ("gender", "mobile", "telephone", "email", "position", "avatar")

ALL_APPS = "*"

# Rights of the two other roles, everywhere (they are not scoped to departments).
ROLE_RIGHTS = {
    SECURITY: frozenset(
        {"settings.keywords", "settings.watermark", "settings.mfa_device"}
    ),
    # The archive's content (reserved: not even the super admin holds these), and the
    # exporters' status (no content; the super admin sees it too).
    AUDIT: ROLE_ONLY_RIGHTS | {"audit.exporters"},
}

# Scope names modules used before this model (require_admin's second argument), and
# the right each now means. A scope neither here nor in RIGHTS is the super admin's.
LEGACY_SCOPES = {
    "directory.read": "directory.view",
    "directory.write": "directory.edit_members",
    "policy.keywords.read": "settings.keywords",
    "policy.keywords.write": "settings.keywords",
    "watermark.settings.read": "settings.watermark",
    "watermark.settings.write": "settings.watermark",
    "groups.settings.read": "settings.group_caps",
    "groups.settings.write": "settings.group_caps",
    # (accounts, groups and the open API now ask for rights with targets.)
}


def right_of_scope(scope: str) -> str:
    return LEGACY_SCOPES.get(scope, scope)


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    parent_id: int | None
    rights: frozenset[str]
    apps: frozenset[str]
    hidden_fields: frozenset[str]
    scope: frozenset[int]
    members: frozenset[str]
    created_by: str = ""
    updated_by: str = ""
    created_ts: int = 0
    updated_ts: int = 0

    def to_json(self, effective: "Grant | None" = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "parent_id": self.parent_id,
            "rights": sorted(self.rights),
            "apps": sorted(self.apps),
            "hidden_fields": sorted(self.hidden_fields),
            "scope": sorted(self.scope),
            "members": sorted(self.members),
            "created_by": self.created_by,
            "created_ts": self.created_ts,
            "updated_by": self.updated_by,
            "updated_ts": self.updated_ts,
        }
        if effective is not None:
            body["effective_rights"] = sorted(effective.rights)
        return body


@dataclass(frozen=True)
class Grant:
    """What membership of one group gives: the intersection of the rights along its
    chain of parents, and one scope set per level (a department is in scope when its
    path meets every level)."""

    group_id: int
    rights: frozenset[str]
    levels: tuple[frozenset[int], ...]
    apps: frozenset[str]
    hidden_fields: frozenset[str]

    def covers_path(self, path: Iterable[int]) -> bool:
        ids = set(path)
        return all(level & ids for level in self.levels)

    def covers_app(self, app_id: str) -> bool:
        return ALL_APPS in self.apps or app_id in self.apps


def intersect_apps(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    if ALL_APPS in a:
        return b
    if ALL_APPS in b:
        return a
    return a & b


@dataclass
class Snapshot:
    """The whole model in memory (1,000 groups and 5,000 admins are small)."""

    generation: int
    groups: dict[int, Group]
    roles: dict[str, frozenset[str]]
    member_groups: dict[str, list[int]] = field(default_factory=dict)
    grants: dict[int, Grant] = field(default_factory=dict)

    @staticmethod
    def build(
        generation: int,
        groups: Mapping[int, Group],
        roles: Mapping[str, frozenset[str]],
    ) -> "Snapshot":
        snapshot = Snapshot(generation, dict(groups), dict(roles))
        for group in groups.values():
            for user_id in group.members:
                snapshot.member_groups.setdefault(user_id, []).append(group.id)
        for group_id in groups:
            snapshot.grants[group_id] = snapshot.grant_of(group_id)
        return snapshot

    def chain(self, group_id: int) -> list[Group]:
        """The group and its parents, top-level group first."""
        out: list[Group] = []
        seen: set[int] = set()
        current: int | None = group_id
        while current is not None and current in self.groups and current not in seen:
            seen.add(current)
            out.append(self.groups[current])
            current = self.groups[current].parent_id
        return out[::-1]

    def grant_of(self, group_id: int) -> Grant:
        chain = self.chain(group_id)
        rights = frozenset(RIGHTS)
        apps = frozenset({ALL_APPS})
        hidden: frozenset[str] = frozenset()
        for group in chain:
            rights &= group.rights
            apps = intersect_apps(apps, group.apps)
            hidden |= group.hidden_fields
        return Grant(group_id, rights, tuple(g.scope for g in chain), apps, hidden)

    def descendants(self, group_id: int) -> set[int]:
        children: dict[int, list[int]] = {}
        for group in self.groups.values():
            if group.parent_id is not None:
                children.setdefault(group.parent_id, []).append(group.id)
        out: set[int] = set()
        stack = list(children.get(group_id, []))
        while stack:
            current = stack.pop()
            if current not in out:
                out.add(current)
                stack.extend(children.get(current, []))
        return out

    def roles_of(self, user_id: str) -> frozenset[str]:
        return self.roles.get(user_id, frozenset())

    def grants_of(self, user_id: str) -> list[Grant]:
        return [self.grants[g] for g in self.member_groups.get(user_id, [])]

    def managed_groups(self, user_id: str) -> set[int]:
        """Groups this (non-super) admin may change: the sub-groups, at any depth, of
        its groups that may create sub-groups."""
        out: set[int] = set()
        for grant in self.grants_of(user_id):
            if "groups.create_subgroups" in grant.rights:
                out |= self.descendants(grant.group_id)
        return out

    def parents_for_new_groups(self, user_id: str) -> set[int]:
        """Where this (non-super) admin may create a group: under its own groups that
        may create sub-groups, and under their sub-groups."""
        out: set[int] = set()
        for grant in self.grants_of(user_id):
            if "groups.create_subgroups" in grant.rights:
                out.add(grant.group_id)
                out |= self.descendants(grant.group_id)
        return out
