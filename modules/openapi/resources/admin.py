# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admins' app management under /_jwwx/admin/v1/openapi (scope "openapi.apps").

POST   apps                   {name, agentid?, description?, avatar?, visible_range?,
                               redirect_domain?, ip_allowlist?, callback?, crypto_mode?,
                               directory_write?} → the app and its `secret` (shown once)
GET    apps · GET apps/{agentid}
PUT    apps/{agentid}         partial update, same fields (not agentid)
DELETE apps/{agentid}         removes the app, its tokens; deactivates its bot account
POST   apps/{agentid}/secret  a new secret (shown once); the app's tokens stop working
GET    apps/{agentid}/statistics  messages, recipients, delivered, failed, and the 20
                              latest messages as below
GET    apps/{agentid}/messages/{msgid}  recipients, delivered, failed, read (receipts)
GET    apps/{agentid}/callbacks?state=failed|pending|sent&limit=  the app's callback
                              queue: counts by state and the latest rows of one state
                              (default failed: the dead letters)
POST   apps/{agentid}/callbacks/retry  {msgids?}  dead letters back to the queue
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common.admin import require_admin
from modules.common.errors import error
from modules.common.inputs import parse_int
from modules.common.resource import query_param, read_json_object
from modules.common.router import Router
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.openapi.apps import AppAdmin, app_json
from modules.openapi.callbacks import STATES, Callbacks

ADMIN_PREFIX = "/_jwwx/admin/v1/openapi"
SCOPE = "openapi.apps"


class OpenApiAdminResource(Router):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        apps: AppAdmin,
        callbacks: Callbacks,
    ) -> None:
        super().__init__(api)
        self._runtime = runtime
        self._apps = apps
        self._callbacks = callbacks
        r = self.route
        r("GET", "apps", self.list_apps)
        r("POST", "apps", self.create_app)
        r("GET", "apps/{agentid}", self.get_app)
        r("PUT", "apps/{agentid}", self.update_app)
        r("DELETE", "apps/{agentid}", self.delete_app)
        r("POST", "apps/{agentid}/secret", self.reset_secret)
        r("GET", "apps/{agentid}/statistics", self.statistics)
        r("GET", "apps/{agentid}/messages/{msgid}", self.message)
        r("GET", "apps/{agentid}/callbacks", self.callbacks)
        r("POST", "apps/{agentid}/callbacks/retry", self.retry_callbacks)

    async def _admin(self, request: Any) -> str:
        user_id = await require_admin(self.api, request, SCOPE)
        await self._runtime.ready()
        return user_id

    @staticmethod
    def _agentid(text: str) -> int:
        return parse_int(text, "agentid", 0, 10**12 - 1)

    async def list_apps(self, request: Any) -> tuple[int, Any]:
        await self._admin(request)
        return 200, await self._apps.list()

    async def create_app(self, request: Any) -> tuple[int, Any]:
        admin = await self._admin(request)
        return 200, await self._apps.create(read_json_object(request), admin)

    async def get_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        return 200, app_json(await self._apps.require(self._agentid(agentid)))

    async def update_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        return 200, await self._apps.update(
            self._agentid(agentid), read_json_object(request)
        )

    async def delete_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        await self._apps.delete(self._agentid(agentid))
        return 200, {}

    async def reset_secret(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        return 200, await self._apps.reset_secret(self._agentid(agentid))

    async def statistics(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        return 200, await self._apps.statistics(self._agentid(agentid))

    async def message(self, request: Any, agentid: str, msgid: str) -> tuple[int, Any]:
        await self._admin(request)
        return 200, await self._apps.message(self._agentid(agentid), msgid)

    async def callbacks(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        app = await self._apps.require(self._agentid(agentid))
        state = query_param(request, "state") or "failed"
        if state not in STATES:
            raise error(
                400, Codes.INVALID_PARAM, "state 只能是 failed、pending 或 sent"
            )
        limit = self.integer_arg(request, "limit", 100, 1, 500)
        return 200, await self._callbacks.queue(app.agentid, state, limit)

    async def retry_callbacks(self, request: Any, agentid: str) -> tuple[int, Any]:
        await self._admin(request)
        app = await self._apps.require(self._agentid(agentid))
        body = read_json_object(request)
        msgids = body.get("msgids")
        if msgids is not None and (
            not isinstance(msgids, list)
            or not 1 <= len(msgids) <= 500
            or any(not isinstance(m, str) or len(m) > 32 for m in msgids)
        ):
            raise error(400, Codes.INVALID_PARAM, "msgids 必须是 1 到 500 个消息 ID")
        return 200, {"requeued": await self._callbacks.requeue(app.agentid, msgids)}
