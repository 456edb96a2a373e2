# SPDX-License-Identifier: AGPL-3.0-or-later
"""The super admin's endpoints for the organisation (organisation.py), under
/_jwwx/admin/v1/organisation:

GET  unit               unit information, the splash image, computed counts
PUT  unit               {short_name?, full_name?, domain?, logo?, splash?} (null clears)
GET  profile_fields     {editable, fields}: which profile fields officers may change
PUT  profile_fields     {"editable": ["avatar_url", ...]}
"""

from typing import Any

from synapse.module_api import ModuleApi

from admin_api.authority import AdminAuthority
from admin_api.organisation import Organisation
from modules.common.admin import check_admin_request
from modules.common.errors import forbidden
from modules.common.resource import read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime

ORGANISATION_PREFIX = "/_jwwx/admin/v1/organisation"


class OrganisationResource(Router):
    prefix = ORGANISATION_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        authority: AdminAuthority,
        organisation: Organisation,
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._authority = authority
        self._organisation = organisation
        self.route("GET", "unit", self.get_unit)
        self.route("PUT", "unit", self.put_unit)
        self.route("GET", "profile_fields", self.get_profile_fields)
        self.route("PUT", "profile_fields", self.put_profile_fields)

    async def _super(self, request: Any) -> str:
        user_id = await self.requester_id(request)
        await self._runtime.ready()
        await check_admin_request(self.api, request, user_id)
        if not await self._authority.is_super(user_id):
            raise forbidden("需要超级管理员权限")
        return user_id

    async def get_unit(self, request: Any) -> tuple[int, Any]:
        await self._super(request)
        return 200, await self._organisation.unit()

    async def put_unit(self, request: Any) -> tuple[int, Any]:
        actor = await self._super(request)
        body = read_json_object(request)
        return 200, await self._organisation.update_unit(actor, request, body)

    async def get_profile_fields(self, request: Any) -> tuple[int, Any]:
        await self._super(request)
        return 200, await self._organisation.profile_fields()

    async def put_profile_fields(self, request: Any) -> tuple[int, Any]:
        actor = await self._super(request)
        body = read_json_object(request)
        return 200, await self._organisation.set_profile_fields(actor, request, body)
