# SPDX-License-Identifier: AGPL-3.0-or-later
"""Admins' app management under /_jwwx/admin/v1/openapi.

Rights (docs/admin.md): creating an app needs "apps.create"; everything else on an app
needs "apps.manage" for that app (its admin group lists the agentid, or "*"); the
listing shows only those apps. An app's visible range must lie within the admin's
departments (a tag or directory_write spans the whole directory: unrestricted admins
only). Out of scope: 403 CN_JWWX_ADMIN_SCOPE, nothing done. Every write is one
operation-log record, without the secret, the callback token or the EncodingAESKey.

POST   apps                   {name, agentid?, description?, avatar?, visible_range?,
                               redirect_domain?, ip_allowlist?, callback?, crypto_mode?,
                               directory_write?} → the app and its `secret` (shown once)
GET    apps · GET apps/{agentid}
PUT    apps/{agentid}         partial update, same fields (not agentid)
DELETE apps/{agentid}         removes the app, its tokens; deactivates its bot account
POST   apps/{agentid}/secret  a new secret (shown once); the app's tokens stop working
GET    statistics?agentids=1,2&days=7  several apps per day and per unit (app push)
GET    apps/{agentid}/statistics  messages, recipients, delivered, failed, and the 20
                              latest messages as below
GET    apps/{agentid}/messages/{msgid}  recipients, delivered, failed, read (receipts)
GET    apps/{agentid}/callbacks?state=failed|pending|sent&limit=  the app's callback
                              queue: counts by state and the latest rows of one state
                              (default failed: the dead letters)
POST   apps/{agentid}/callbacks/retry  {msgids?}  dead letters back to the queue
GET    broadcast/pool             the pool of spare broadcast rooms (pool.py):
                              {deliverable, covered, joining, spare_rooms, building,
                              pacing: this process's paced pushes (pacing.py)}
                              (needs apps.create over the whole directory; 404 when
                              broadcast_pool is off)
POST   broadcast/pool             build it now (after a directory import) in the
                              background; answers the same
GET    apps/{agentid}/callback/verification  WeCom's URL verification of the app's
                              callback, run now: {url, verified, error?, checked_ts}
                              (changes nothing; 400 M_INVALID_PARAM without a callback)
POST   apps/{agentid}/messages  a push on behalf of the app (the console's 应用推送): the
                              body of /cgi-bin/message/send without agentid, sent by the
                              same code (the app's visible range, keyword filter,
                              broadcast rooms); the recipients named (touser, toparty,
                              totag or @all) must be in the admin's scope too. Answers
                              message/send's {msgid, invaliduser, invalidparty,
                              invalidtag}; a refusal is 400 CN_JWWX_APP_PUSH_REFUSED with
                              message/send's wecom_errcode and errmsg
"""

from typing import Any

from synapse.module_api import ModuleApi

from modules.common import admin as decide
from modules.common.admin import Target
from modules.common.admin_router import AdminRouter
from modules.common.errors import error
from modules.common.inputs import parse_int
from modules.common.resource import query_param, read_json_object
from modules.common.runtime import ModuleRuntime
from modules.common.synapse.errors import Codes
from modules.openapi.apps import AppAdmin, app_json
from modules.openapi.callbacks import STATES, CallbackError, Callbacks
from modules.openapi.errors import WeComError
from modules.openapi.messages import Messenger
from modules.openapi.pool import Pool

ADMIN_PREFIX = "/_jwwx/admin/v1/openapi"
MANAGE = "apps.manage"
CREATE = "apps.create"
PUSH_REFUSED = "CN_JWWX_APP_PUSH_REFUSED"
MAX_CROSS_APPS = 50
MAX_CROSS_DAYS = 92


def range_targets(body: dict[str, Any]) -> list[Target]:
    """What an app body's visible range and directory_write reach (bodies are checked
    in full by AppAdmin; here only well-formed parts count, malformed ones are refused
    there)."""
    targets = decide.visible_range_targets(body.get("visible_range"))
    if body.get("directory_write") is True:
        targets.append(decide.WHOLE_DIRECTORY)
    return targets


def recipient_targets(body: dict[str, Any]) -> list[Target]:
    """Who a message/send body names ("a|b" lists; tags and @all: the whole
    directory); malformed parts are left to message/send's own checks."""
    targets: list[Target] = []
    for key in ("touser", "toparty"):
        value = body.get(key)
        if not isinstance(value, str):
            continue
        for part in filter(None, value.split("|")):
            if part == "@all":
                targets.append(decide.WHOLE_DIRECTORY)
            elif key == "touser":
                targets.append(decide.member(part))
            elif part.isdigit():
                targets.append(decide.department(int(part)))
    if body.get("totag"):
        targets.append(decide.WHOLE_DIRECTORY)
    return targets


def _logged(app: dict[str, Any]) -> dict[str, Any]:
    """An app's JSON for the operation log: never the secret nor callback secrets."""
    out = {k: v for k, v in app.items() if k != "secret"}
    if isinstance(out.get("callback"), dict):
        out["callback"] = {"url": out["callback"].get("url")}
    return out


class OpenApiAdminResource(AdminRouter):
    prefix = ADMIN_PREFIX

    def __init__(
        self,
        api: ModuleApi,
        runtime: ModuleRuntime,
        apps: AppAdmin,
        callbacks: Callbacks,
        messenger: Messenger,
        pool: Pool | None = None,
    ) -> None:
        super().__init__(api, runtime)
        self._pool = pool
        self._apps = apps
        self._callbacks = callbacks
        self._messenger = messenger
        r = self.route
        r("GET", "apps", self.list_apps)
        r("POST", "apps", self.create_app)
        r("GET", "apps/{agentid}", self.get_app)
        r("PUT", "apps/{agentid}", self.update_app)
        r("DELETE", "apps/{agentid}", self.delete_app)
        r("POST", "apps/{agentid}/secret", self.reset_secret)
        r("GET", "apps/{agentid}/statistics", self.statistics)
        r("GET", "statistics", self.cross_statistics)
        r("GET", "apps/{agentid}/messages/{msgid}", self.message)
        r("GET", "apps/{agentid}/callbacks", self.callbacks)
        r("POST", "apps/{agentid}/callbacks/retry", self.retry_callbacks)
        r("POST", "apps/{agentid}/messages", self.push)
        r("GET", "apps/{agentid}/callback/verification", self.verify_callback)
        r("GET", "broadcast/pool", self.pool_coverage)
        r("POST", "broadcast/pool", self.build_pool)

    async def _app_admin(self, request: Any, agentid: str) -> tuple[str, int]:
        number = self._agentid(agentid)
        return await self.admin(request, MANAGE, decide.app(number)), number

    @staticmethod
    def _agentid(text: str) -> int:
        return parse_int(text, "agentid", 0, 10**12 - 1)

    async def list_apps(self, request: Any) -> tuple[int, Any]:
        _admin, scope = await self.admin_scope(request, MANAGE)
        listing = await self._apps.list()
        if not scope.unrestricted:
            kept = {
                t.id
                for t in await scope.filter(
                    [decide.app(a["agentid"]) for a in listing["apps"]]
                )
            }
            listing["apps"] = [a for a in listing["apps"] if str(a["agentid"]) in kept]
        return 200, listing

    async def create_app(self, request: Any) -> tuple[int, Any]:
        body = read_json_object(request)
        admin = await self.admin(request, CREATE, range_targets(body))
        created = await self._apps.create(body, admin)
        # A scoped creator's groups get the app, so it can manage what it created.
        created["admin_groups"] = await decide.grant_created_app(
            self.api, admin, created["agentid"]
        )
        await self.log(
            request,
            admin,
            "openapi.app.create",
            f"app:{created['agentid']}",
            None,
            _logged(created),  # admin_groups included
        )
        return 200, created

    async def get_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        _admin, number = await self._app_admin(request, agentid)
        return 200, app_json(await self._apps.require(number))

    async def update_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        body = read_json_object(request)
        admin, number = await self._app_admin(request, agentid)
        await decide.check_targets(self.api, admin, MANAGE, range_targets(body))
        before = app_json(await self._apps.require(number))
        updated = await self._apps.update(number, body)
        await self.log(
            request,
            admin,
            "openapi.app.update",
            f"app:{number}",
            before,
            _logged(updated),
        )
        return 200, updated

    async def delete_app(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app_admin(request, agentid)
        before = app_json(await self._apps.require(number))
        await self._apps.delete(number)
        await self.log(request, admin, "openapi.app.delete", f"app:{number}", before)
        return 200, {}

    async def reset_secret(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app_admin(request, agentid)
        result = await self._apps.reset_secret(number)
        await self.log(
            request,
            admin,
            "openapi.app.reset_secret",
            f"app:{number}",
            None,
            {"reset": True},
        )
        return 200, result

    async def statistics(self, request: Any, agentid: str) -> tuple[int, Any]:
        _admin, number = await self._app_admin(request, agentid)
        return 200, await self._apps.statistics(number)

    async def _require_pool(self, request: Any) -> tuple[str, Pool]:
        admin = await self.admin(request, CREATE, decide.WHOLE_DIRECTORY)
        if self._pool is None:
            raise error(404, Codes.NOT_FOUND, "broadcast_pool is off")
        return admin, self._pool

    async def pool_coverage(self, request: Any) -> tuple[int, Any]:
        _admin, pool = await self._require_pool(request)
        return 200, await pool.coverage()

    async def build_pool(self, request: Any) -> tuple[int, Any]:
        admin, pool = await self._require_pool(request)
        pool.build_in_background()
        await self.log(request, admin, "openapi.broadcast_pool.build", "pool")
        return 200, await pool.coverage()

    async def cross_statistics(self, request: Any) -> tuple[int, Any]:
        """Several apps at once (the app-push bridge's source apps): ?agentids=1,2&days=7."""
        raw = query_param(request, "agentids") or ""
        agentids = tuple(
            dict.fromkeys(self._agentid(p.strip()) for p in raw.split(",") if p.strip())
        )
        if not 1 <= len(agentids) <= MAX_CROSS_APPS:
            raise error(
                400,
                Codes.INVALID_PARAM,
                f"agentids 必须是 1 到 {MAX_CROSS_APPS} 个应用 ID，以逗号分隔",
            )
        days = self.integer_arg(request, "days", 7, 1, MAX_CROSS_DAYS)
        await self.admin(request, MANAGE, [decide.app(a) for a in agentids])
        now = int(self.api.get_current_time_msec())
        return 200, await self._apps.cross_statistics(agentids, days, now)

    async def message(self, request: Any, agentid: str, msgid: str) -> tuple[int, Any]:
        _admin, number = await self._app_admin(request, agentid)
        return 200, await self._apps.message(number, msgid)

    async def callbacks(self, request: Any, agentid: str) -> tuple[int, Any]:
        _admin, number = await self._app_admin(request, agentid)
        app = await self._apps.require(number)
        state = query_param(request, "state") or "failed"
        if state not in STATES:
            raise error(
                400, Codes.INVALID_PARAM, "state 只能是 failed、pending 或 sent"
            )
        limit = self.integer_arg(request, "limit", 100, 1, 500)
        return 200, await self._callbacks.queue(app.agentid, state, limit)

    async def retry_callbacks(self, request: Any, agentid: str) -> tuple[int, Any]:
        admin, number = await self._app_admin(request, agentid)
        app = await self._apps.require(number)
        body = read_json_object(request)
        msgids = body.get("msgids")
        if msgids is not None and (
            not isinstance(msgids, list)
            or not 1 <= len(msgids) <= 500
            or any(not isinstance(m, str) or len(m) > 32 for m in msgids)
        ):
            raise error(400, Codes.INVALID_PARAM, "msgids 必须是 1 到 500 个消息 ID")
        requeued = await self._callbacks.requeue(app.agentid, msgids)
        await self.log(
            request,
            admin,
            "openapi.callbacks.retry",
            f"app:{number}",
            None,
            {"msgids": msgids, "requeued": requeued},
        )
        return 200, {"requeued": requeued}

    async def push(self, request: Any, agentid: str) -> tuple[int, Any]:
        body = read_json_object(request)
        admin, number = await self._app_admin(request, agentid)
        await decide.check_targets(self.api, admin, MANAGE, recipient_targets(body))
        app = await self._apps.require(number)
        try:
            sent = await self._messenger.send(app, {**body, "agentid": app.agentid})
        except WeComError as e:
            raise error(
                400,
                PUSH_REFUSED,
                f"推送失败：{e.errmsg}",
                wecom_errcode=e.errcode,
                errmsg=e.errmsg,
            ) from None
        recipients = {k: body.get(k) for k in ("touser", "toparty", "totag")}
        await self.log(
            request,
            admin,
            "openapi.app.push",
            f"app:{number}",
            None,
            {"msgtype": body.get("msgtype"), **recipients, **sent},
        )
        return 200, sent

    async def verify_callback(self, request: Any, agentid: str) -> tuple[int, Any]:
        _admin, number = await self._app_admin(request, agentid)
        app = await self._apps.require(number)
        if not app.callback_url:
            raise error(400, Codes.INVALID_PARAM, f"应用 {number} 没有设置回调地址")
        answer: dict[str, Any] = {"url": app.callback_url, "verified": True}
        try:
            await self._callbacks.verify_url(app)
        except CallbackError as e:
            answer.update(verified=False, error=str(e))
        answer["checked_ts"] = self.api.get_current_time_msec()
        return 200, answer
