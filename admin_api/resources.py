# SPDX-License-Identifier: AGPL-3.0-or-later
"""The administration model's endpoints under /_jwwx/admin/v1/admins (docs/admin.md).

GET    me                        the caller's roles, groups, effective rights and scope
GET    groups                    admin groups the caller may see
POST   groups                    {name, parent_id?, members?, scope?, rights?, apps?,
                                  hidden_fields?}  (super admin; or, under its own group,
                                  an admin whose group may create sub-groups)
GET    groups/{id}
PUT    groups/{id}               any of the same fields (parent_id moves it)
DELETE groups/{id}               only without sub-groups
GET    roles                     super admin: who holds super / audit / security
PUT    roles/{user_id}           super admin: {"roles": [...]} replaces that account's
GET    quotas                    super admin: quota and usage of every second-level unit
PUT    quotas/{unit_id|total}    super admin: {"quota": N | null}
GET    session                   the caller's admin session: second factor passed, expiry
POST   session/verify            {code}: pass the second factor (TOTP or recovery code;
                                  confirms a pending enrolment) — sessions.py
"""

from typing import Any

from synapse.module_api import ModuleApi

from admin_api.authority import AdminAuthority
from admin_api.service import AdminService
from admin_api.sessions import AdminSessions
from modules.common.admin import check_admin_request, client_ip
from modules.common.errors import forbidden
from modules.common.inputs import parse_int
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime

ADMINS_PREFIX = "/_jwwx/admin/v1/admins"


class AdminsResource(Router):
    prefix = ADMINS_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        authority: AdminAuthority,
        service: AdminService,
        sessions: AdminSessions,
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._authority = authority
        self._service = service
        self._sessions = sessions
        r = self.route
        r("GET", "me", self.me)
        r("GET", "groups", self.list_groups)
        r("POST", "groups", self.create_group)
        r("GET", "groups/{group}", self.get_group)
        r("PUT", "groups/{group}", self.update_group)
        r("DELETE", "groups/{group}", self.delete_group)
        r("GET", "roles", self.list_roles)
        r("PUT", "roles/{user_id}", self.set_roles)
        r("GET", "quotas", self.quotas)
        r("PUT", "quotas/{unit}", self.set_quota)
        r("GET", "session", self.session)
        r("POST", "session/verify", self.verify_session)

    async def _caller(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        await check_admin_request(self.api, request, user_id)
        return user_id

    async def _super(self, request: Any) -> str:
        user_id = await self._caller(request)
        if not await self._authority.is_super(user_id):
            raise forbidden("需要超级管理员权限")
        return user_id

    @staticmethod
    def _group_id(text: str) -> int:
        return parse_int(text, "管理组ID", 0, 10**12 - 1)

    async def me(self, request: Any) -> tuple[int, Any]:
        return 200, await self._service.me(await self._caller(request))

    async def list_groups(self, request: Any) -> tuple[int, Any]:
        return 200, await self._service.list_groups(await self._caller(request))

    async def get_group(self, request: Any, group: str) -> tuple[int, Any]:
        actor = await self._caller(request)
        return 200, await self._service.get_group(actor, self._group_id(group))

    async def create_group(self, request: Any) -> tuple[int, Any]:
        actor = await self._caller(request)
        body = read_json_object(request)
        return 200, await self._service.create_group(actor, client_ip(request), body)

    async def update_group(self, request: Any, group: str) -> tuple[int, Any]:
        actor = await self._caller(request)
        group_id = self._group_id(group)
        body = read_json_object(request)
        return 200, await self._service.update_group(
            actor, client_ip(request), group_id, body
        )

    async def delete_group(self, request: Any, group: str) -> tuple[int, Any]:
        actor = await self._caller(request)
        await self._service.delete_group(
            actor, client_ip(request), self._group_id(group)
        )
        return 200, {}

    async def list_roles(self, request: Any) -> tuple[int, Any]:
        await self._super(request)
        return 200, await self._service.list_roles()

    async def set_roles(self, request: Any, user_id: str) -> tuple[int, Any]:
        actor = await self._super(request)
        body = read_json_object(request)
        return 200, await self._service.set_roles(
            actor, client_ip(request), user_id, body
        )

    async def quotas(self, request: Any) -> tuple[int, Any]:
        await self._super(request)
        return 200, await self._service.quotas()

    async def set_quota(self, request: Any, unit: str) -> tuple[int, Any]:
        actor = await self._super(request)
        body = read_json_object(request)
        return 200, await self._service.set_quota(actor, client_ip(request), unit, body)

    # The caller's own admin session (second factor, idle expiry: sessions.py).

    async def _session_caller(self, request: Any) -> tuple[str, Any]:
        requester = await self.api.get_user_by_req(request)
        user_id = str(requester.user.to_string())
        await self._runtime.ready()
        await check_admin_request(self.api, request, user_id)
        return user_id, requester

    async def session(self, request: Any) -> tuple[int, Any]:
        user_id, requester = await self._session_caller(request)
        return 200, await self._sessions.status(
            user_id, requester.device_id, requester.access_token_id
        )

    async def verify_session(self, request: Any) -> tuple[int, Any]:
        user_id, requester = await self._session_caller(request)
        body = read_json_object(request)
        return 200, await self._sessions.verify(
            request, user_id, requester.device_id, requester.access_token_id, body
        )
