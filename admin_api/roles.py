# SPDX-License-Identifier: AGPL-3.0-or-later
"""Roles: super / audit / security admins, assigned at run time (三员分立)."""

from typing import Any

from admin_api import errors, storage
from admin_api.changes import SEPARATED, USER_ID, ModelChanges, strings
from admin_api.errors import invalid
from admin_api.model import ROLE_NAMES, ROLES, SUPER
from modules.common.errors import error, forbidden
from modules.common.storage import Txn


class RoleService(ModelChanges):
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
        roles = strings(body, "roles")
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
        if not USER_ID.match(user_id):
            raise invalid(f"用户ID“{user_id}”不合法")
        await self._check_users(frozenset({user_id}))
        before = await self.current_roles(user_id)
        if user_id == actor and SUPER in before and SUPER not in roles:
            raise forbidden("不能撤销自己的超级管理员角色")
        now = self._now()

        def roles_txn(txn: Txn) -> None:
            if roles & SEPARATED and not self._config.allow_combined_roles:
                snapshot = self._model_txn(txn)
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
