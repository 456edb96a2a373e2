# SPDX-License-Identifier: AGPL-3.0-or-later
"""The apps' rights: one table (jwwx_openapi_app_rights) says which open-API app may
use which capability beyond messaging — "ocr" (/cgi-bin/ocr/*), "asr"
(/cgi-bin/media/voice/*). The capability's module asks before serving an app and
offers the admins' grant page (AppRightsAdminResource, mounted by that module so the
page exists only where the capability does)."""

from collections.abc import Awaitable, Callable
from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import parse_int
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.openapi import storage
from modules.openapi.storage import rights as rights_store

CAPABILITIES = ("ocr", "asr")
MANAGE = "apps.manage"


class AppRights:
    def __init__(self, api: ModuleApi) -> None:
        self._api = api

    @staticmethod
    def _check(capability: str) -> None:
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}")

    async def granted(self, capability: str) -> list[int]:
        self._check(capability)
        return list(
            await self._api.run_db_interaction(
                "jwwx_openapi_rights_granted", rights_store.granted_txn, capability
            )
        )

    async def allows(self, agentid: int, capability: str) -> bool:
        self._check(capability)
        return bool(
            await self._api.run_db_interaction(
                "jwwx_openapi_rights_allows",
                rights_store.is_granted_txn,
                agentid,
                capability,
            )
        )

    async def grant(
        self, agentid: int, capability: str, admin: str, when: int | None = None
    ) -> bool:
        """True when newly granted; `when` keeps the time of a grant moved here."""
        self._check(capability)
        now = int(self._api.get_current_time_msec()) if when is None else when
        return bool(
            await self._api.run_db_interaction(
                "jwwx_openapi_rights_grant",
                rights_store.grant_txn,
                agentid,
                capability,
                admin,
                now,
            )
        )

    async def revoke(self, agentid: int, capability: str) -> bool:
        self._check(capability)
        return bool(
            await self._api.run_db_interaction(
                "jwwx_openapi_rights_revoke",
                rights_store.revoke_txn,
                agentid,
                capability,
            )
        )

    async def app_exists(self, agentid: int) -> bool:
        app = await self._api.run_db_interaction(
            "jwwx_openapi_get_app", storage.get_app_txn, agentid
        )
        return app is not None


class AppRightsAdminResource(AdminRouter):
    """Admins, /_jwwx/admin/v1/{capability} (right apps.manage on the app):
    GET    apps            → {"agentids": [...]} the apps granted the capability
    PUT    apps/{agentid}  grant it (404 M_NOT_FOUND for an unknown app)
    DELETE apps/{agentid}  no longer
    Each change is one operation-log record ({capability}.app.grant|revoke, target
    app:{id})."""

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        find: Callable[[], Awaitable[AppRights | None]],
        capability: str,
    ) -> None:
        super().__init__(api, runtime)
        self.prefix = f"/_jwwx/admin/v1/{capability}"
        self._find = find
        self._capability = capability
        self.route("GET", "apps", self.list_apps)
        self.route("PUT", "apps/{agentid}", self.grant)
        self.route("DELETE", "apps/{agentid}", self.revoke)

    async def _rights(self) -> AppRights:
        found = await self._find()
        if found is None:
            raise error(404, Codes.NOT_FOUND, "开放接口模块未加载")
        return found

    async def list_apps(self, request: Any) -> tuple[int, Any]:
        _admin, scope = await self.admin_scope(request, MANAGE)
        granted = await (await self._rights()).granted(self._capability)
        if not scope.unrestricted:
            kept = {t.id for t in await scope.filter([decide.app(a) for a in granted])}
            granted = [a for a in granted if str(a) in kept]
        return 200, {"agentids": granted}

    async def _app(self, request: Any, agentid: str) -> tuple[str, int]:
        number = parse_int(agentid, "agentid", 1, 10**12 - 1)
        admin = await self.admin(request, MANAGE, decide.app(number))
        if not await (await self._rights()).app_exists(number):
            raise error(404, Codes.NOT_FOUND, f"应用 {number} 不存在")
        return admin, number

    async def grant(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app(request, agentid)
        await (await self._rights()).grant(number, self._capability, admin)
        action = f"{self._capability}.app.grant"
        after = {self._capability: True}
        await self.log(request, admin, action, f"app:{number}", None, after)
        return 200, {}

    async def revoke(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app(request, agentid)
        await (await self._rights()).revoke(number, self._capability)
        action = f"{self._capability}.app.revoke"
        before = {self._capability: True}
        await self.log(request, admin, action, f"app:{number}", before)
        return 200, {}
